/// A file of a published dataset: its name on the mirrors, well-known SHA-256 and size in bytes.
public struct RemoteFile: Sendable, Equatable {
    public var name: String
    public var sha256: String
    public var size: Int

    public init(name: String, sha256: String, size: Int) {
        self.name = name
        self.sha256 = sha256
        self.size = size
    }
}

/// Where a dataset can be downloaded from and what its files must hash to.
public struct RemoteDataset: Sendable, Equatable {
    public var name: String
    /// Base URLs, tried in order; the file name is appended.
    public var mirrors: [String]
    /// The four gzip files: train images, train labels, test images, test labels.
    public var files: [RemoteFile]

    public init(name: String, mirrors: [String], files: [RemoteFile]) {
        self.name = name
        self.mirrors = mirrors
        self.files = files
    }

    public var totalBytes: Int { files.reduce(0) { $0 + $1.size } }

    /// The original MNIST distribution files (the SHA-256 published by TensorFlow Datasets).
    public static let mnist = RemoteDataset(
        name: "mnist",
        mirrors: [
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
        ],
        files: [
            RemoteFile(name: "train-images-idx3-ubyte.gz",
                       sha256: "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", size: 9_912_422),
            RemoteFile(name: "train-labels-idx1-ubyte.gz",
                       sha256: "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", size: 28_881),
            RemoteFile(name: "t10k-images-idx3-ubyte.gz",
                       sha256: "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", size: 1_648_877),
            RemoteFile(name: "t10k-labels-idx1-ubyte.gz",
                       sha256: "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", size: 4_542),
        ])

    /// The original Fashion-MNIST distribution files (the SHA-256 published by TensorFlow Datasets; the MD5 of the
    /// same files are the ones torchvision lists). Debian's dataset-fashion-mnist ships the same data re-compressed,
    /// so its .gz files have other checksums; they are read from their folder, never verified against these.
    public static let fashion = RemoteDataset(
        name: "fashion",
        mirrors: [
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
            "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
        ],
        files: [
            RemoteFile(name: "train-images-idx3-ubyte.gz",
                       sha256: "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84", size: 26_421_880),
            RemoteFile(name: "train-labels-idx1-ubyte.gz",
                       sha256: "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845", size: 29_515),
            RemoteFile(name: "t10k-images-idx3-ubyte.gz",
                       sha256: "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073", size: 4_422_102),
            RemoteFile(name: "t10k-labels-idx1-ubyte.gz",
                       sha256: "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5", size: 5_148),
        ])
}
