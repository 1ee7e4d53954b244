import Foundation

/// Where everything goes on the SVG's pixel canvas (the PNG is that SVG drawn by librsvg). Text widths are
/// estimated from the font size, so the arrangement does not depend on the fonts of the machine.
struct FrameLayout {
    enum Role { case title, tick, label, legend }

    struct LegendEntry {
        /// The series (or bar) the entry shows; -1 for the closing "… and N more".
        var series: Int
        /// Left end of the sample line and the vertical centre of the entry.
        var x: Double, y: Double
        var name: String
    }

    var width: Double, height: Double
    var geo: PlotGeometry
    var plotLeft: Double, plotTop: Double, plotWidth: Double, plotHeight: Double
    var titleY: Double          // top of the title text
    var legend: [LegendEntry]
    var legendSampleWidth: Double
    var yLabels: [String]
    var xLabels: [String]
    /// The note about values a log axis cannot show, and the vertical centre of its line.
    var note: String?
    var noteY: Double = 0
    var tickLength: Double = 5

    var plotRight: Double { plotLeft + plotWidth }
    var plotBottom: Double { plotTop + plotHeight }

    func px(_ x: Double) -> Double { tame(plotLeft + geo.fx(x) * plotWidth) }
    func py(_ t: Double) -> Double { tame(plotTop + (1 - geo.ft(t)) * plotHeight) }

    init(chart: Chart, width: Int, height: Int,
         textWidth: (String, Role) -> Double, lineHeight: (Role) -> Double) {
        let w = Double(Swift.max(width, 80)), h = Double(Swift.max(height, 60))
        self.width = w
        self.height = h
        let pad = 10.0
        let yTickCount = Swift.max(3, Swift.min(6, Int(h / 70) + 1))
        let xTickCount = Swift.max(2, Swift.min(12, Int(w / 80)))
        geo = PlotGeometry(chart: chart, xTickCount: xTickCount, yTickCount: yTickCount)
        yLabels = geo.empty ? [] : geo.yTicks.map(formatTick)
        xLabels = geo.empty && !chart.isBarChart ? [] : geo.xTicks.map(formatTick)
        note = geo.nonPositiveNote

        let tickW = yLabels.map { textWidth($0, .tick) }.max() ?? 0
        var left = pad + tickW + 4 + tickLength
        if !chart.yLabel.isEmpty || chart.logY { left += lineHeight(.label) + 8 }
        let lastX = xLabels.last.map { textWidth($0, .tick) / 2 } ?? 0
        let right = pad + Swift.max(6, lastX)
        var bottom = pad + tickLength + 4 + lineHeight(.tick)
        if !chart.xLabel.isEmpty { bottom += lineHeight(.label) + 8 }

        titleY = pad
        var top = pad
        if !chart.title.isEmpty { top += lineHeight(.title) + 8 }

        // A bar chart names its bars under them when every name fits its slot; otherwise they are numbered
        // and the legend gives the names.
        let plotW = Swift.max(20, w - left - right)
        var legendNames = chart.legendNames
        if chart.isBarChart {
            let slot = plotW / Double(chart.bars.count)
            let names = chart.bars.map(\.name)
            if names.allSatisfy({ textWidth($0, .tick) <= slot - 6 }) {
                xLabels = names
                legendNames = []
            }
        }

        // Legend: entries flow left to right under the title, wrapping.
        legendSampleWidth = chart.isBarChart ? 12 : 30
        var entries: [LegendEntry] = []
        let rowH = lineHeight(.legend) + 6
        var x = left, row = 0
        for (i, name) in legendNames.enumerated() {
            let ew = legendSampleWidth + 6 + textWidth(name, .legend)
            if x > left && x + ew > left + plotW { row += 1; x = left }
            entries.append(LegendEntry(series: i, x: x, y: top + Double(row) * rowH + rowH / 2, name: name))
            x += ew + 18
        }
        // At most the rows that leave the plot most of the height; the entries past them are counted instead.
        let maxRows = Swift.max(1, Int(h * 0.3 / rowH))
        if row >= maxRows, let cut = entries.firstIndex(where: { ($0.y - top - rowH / 2) / rowH >= Double(maxRows) - 0.5 }) {
            let last = Swift.max(0, cut - 1)
            let more = entries.count - last
            entries[last].name = "… and \(more) more"
            entries[last].series = -1
            entries.removeSubrange((last + 1)...)
            row = maxRows - 1
        }
        legend = entries
        if !entries.isEmpty { top += Double(row + 1) * rowH + 6 }
        if note != nil {
            noteY = top + rowH / 2
            top += rowH
        }
        top += 4

        plotLeft = left
        plotTop = top
        plotWidth = plotW
        plotHeight = Swift.max(20, h - top - bottom)
    }

    /// Show a circle at each point when there are few points (or the point
    /// stands alone and would otherwise be invisible).
    func wantsMarkers(series i: Int) -> Bool {
        guard i < geo.validCounts.count else { return false }
        let n = geo.validCounts[i]
        return n > 0 && Double(n) <= Swift.max(12, plotWidth / 18)
    }
}
