import Tensors

/// A float tensor from Doubles.
func tensor(_ values: [Double], _ shape: [Int]) throws -> Tensor { try Tensor(values.map(Float.init), shape: shape) }
