/// Hidden-layer activation functions. The output layer is always softmax + cross-entropy.
public enum Activation: String, CaseIterable, Sendable, Codable {
    case relu, tanh, sigmoid, leakyRelu = "leaky_relu", elu, linear

    /// Slope of leaky_relu for negative inputs (PyTorch's default; Keras uses 0.3).
    public static let leakySlope: Float = 0.01
    /// ELU's alpha (Keras default 1).
    public static let eluAlpha: Float = 1

    @inline(__always)
    public func apply(_ z: Float) -> Float {
        switch self {
        case .relu: return z > 0 ? z : 0
        case .tanh: return _tanhf(z)
        case .sigmoid: return 1 / (1 + _expf(-z))
        case .leakyRelu: return z > 0 ? z : Activation.leakySlope * z
        case .elu: return z > 0 ? z : Activation.eluAlpha * (_expf(z) - 1)
        case .linear: return z
        }
    }

    /// Derivative expressed through the activation's output a = f(z) (every activation here allows it),
    /// so the backward pass needs only the stored outputs.
    @inline(__always)
    public func derivative(output a: Float) -> Float {
        switch self {
        case .relu: return a > 0 ? 1 : 0
        case .tanh: return 1 - a * a
        case .sigmoid: return a * (1 - a)
        case .leakyRelu: return a > 0 ? 1 : Activation.leakySlope
        case .elu: return a > 0 ? 1 : a + Activation.eluAlpha
        case .linear: return 1
        }
    }

    /// For tanh and sigmoid: |a| beyond this output level means |pre-activation| > 5 (the
    /// `act-saturation` rule). nil for activations that do not saturate.
    public var saturationBounds: (low: Float, high: Float)? {
        switch self {
        case .tanh: let t = _tanhf(5); return (-t, t)
        case .sigmoid: return (1 / (1 + _expf(5)), 1 / (1 + _expf(-5)))
        default: return nil
        }
    }
}
