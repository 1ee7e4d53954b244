import PreflightPlot

/// What `plot` can draw.
enum PlotKind: String, CaseIterable {
    case loss, accuracy, hidden, saturation, grads
}

/// The chart of `kind` with every run in `runs` overlaid.
func makeChart(_ kind: PlotKind, runs list: [Run]) -> Chart {
    let multi = list.count > 1
    switch kind {
    case .loss, .accuracy:
        var series: [Series] = []
        for (k, r) in list.enumerated() {
            let ep = r.epochs
            let train = ep.map { (x: Double($0.epoch), y: kind == .loss ? $0.trainLoss : $0.trainAccuracy) }
            let test = ep.map { (x: Double($0.epoch), y: (kind == .loss ? $0.testLoss : $0.testAccuracy) ?? .nan) }
            // One colour per run; train solid, test dashed (as the help and the report's captions say).
            series.append(Series(name: "\(r.name) train", points: train, group: k))
            series.append(Series(name: "\(r.name) test", points: test, dashed: true, group: k))
        }
        let title = kind == .loss ? "Loss per epoch" : "Accuracy per epoch"
        return Chart(title: title + (multi ? "" : ": \(list.first?.name ?? "")"), xLabel: "epoch",
                     yLabel: kind == .loss ? "cross-entropy loss" : "accuracy", series: series,
                     yRange: nil)   // accuracy zooms to the data: 96% against 97% must be visible
    case .hidden:
        var series: [Series] = []
        for (k, r) in list.enumerated() {
            let hidden = r.hiddenCount
            for h in 0..<hidden {
                var pts: [(x: Double, y: Double)] = []
                if let fb = r.firstBatch, h < fb.hidden.count { pts.append((0, fb.hidden[h].mean)) }
                for e in r.epochs where h < e.hidden.count { pts.append((Double(e.epoch), e.hidden[h].mean)) }
                // An external run's hidden outputs carry their module names (net.1).
                let label = r.record.flatMap { h < $0.hiddenNames.count ? $0.hiddenNames[h] : nil } ?? "h\(h + 1)"
                series.append(Series(name: "\(r.name)/\(label)", points: pts, style: runStyle(k), group: h))
            }
        }
        return Chart(title: "Hidden-layer mean activation" + (multi ? "" : ": \(list.first?.name ?? "")"),
                     xLabel: "epoch (0 = first batch)", yLabel: "mean activation", series: series)
    case .saturation:
        // Axis labels stay ASCII: a terminal without UTF-8 shows them too.
        let bars = list.map { r -> Bar in
            let v = r.firstBatch?.saturatedFraction ?? .nan
            return Bar(name: r.name, value: v, label: v.isNaN ? nil : pct(v, 1))
        }
        return Chart(title: "First-batch softmax saturation", xLabel: "runs",
                     yLabel: "share below eps or above 1-eps", bars: bars, yRange: 0...1)
    case .grads:
        var series: [Series] = []
        for (k, r) in list.enumerated() {
            for l in 0..<r.weightLayerCount {
                var pts: [(x: Double, y: Double)] = []
                if let fb = r.firstBatch, l < fb.gradNorms.count { pts.append((0, fb.gradNorms[l])) }
                for e in r.epochs where l < e.layers.count { pts.append((Double(e.epoch), e.layers[l].gradNorm)) }
                let label = r.record.flatMap { l < $0.gradNormNames.count ? $0.gradNormNames[l] : nil } ?? "W\(l + 1)"
                series.append(Series(name: "\(r.name)/\(label)", points: pts, style: runStyle(k), group: l))
            }
        }
        return Chart(title: "Gradient norm per layer" + (multi ? "" : ": \(list.first?.name ?? "")"),
                     xLabel: "epoch (0 = first batch)", yLabel: "gradient norm (L2)", series: series, logY: true)
    }
}

/// Run `k`'s line style in charts whose colours tell layers apart (hidden, grads).
func runStyle(_ k: Int) -> LineStyle { LineStyle.allCases[k % LineStyle.allCases.count] }
