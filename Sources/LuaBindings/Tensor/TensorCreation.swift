import CLua
import CSupport
import Tensors

/// `mpm.tensor`, `zeros`, `ones`, `full`, `arange`, random tensors and generators.
enum TensorCreation {
    static let generatorClass: LuaClass<Generator> = makeGeneratorClass()

    static func register(_ lua: LuaState, in mpm: Int32) {
        generatorClass.install(lua)
        registerConstructors(lua, in: mpm)
        registerRandom(lua, in: mpm)
    }

    /// Applies the `requires_grad` option of the options table at `index`.
    static func finish(_ lua: LuaState, _ tensor: Tensor, options index: Int32) throws -> Int32 {
        if try lua.option(index, "requires_grad", lua.boolean) == true { _ = try tensor.requiresGrad_(true) }
        lua.push(tensor)
        return 1
    }

    // MARK: Constructors

    private static func registerConstructors(_ lua: LuaState, in mpm: Int32) {
        let creationOptions = ["dtype", "requires_grad"]

        lua.register("tensor", in: mpm, doc: """
            mpm.tensor(values [, {dtype=, requires_grad=}]) -> tensor
            From a number, a boolean or nested tables: mpm.tensor({{1, 2}, {3, 4}}). Integers give
            int64, any float gives float32, booleans give bool (as torch.tensor).
            """) { lua in
            try lua.checkOptions(2, allowed: creationOptions, function: "tensor")
            let literal = try TensorLiteral.read(lua, 1)
            let dtype = try lua.option(2, "dtype", lua.dtype) ?? literal.dtype
            return try finish(lua, try literal.tensor(dtype: dtype), options: 2)
        }

        for (name, value) in [("zeros", 0.0), ("ones", 1.0)] {
            lua.register(name, in: mpm, doc: """
                mpm.\(name)(size... [, {dtype=, requires_grad=}]) -> tensor
                A tensor of \(name): mpm.\(name)(2, 3) or mpm.\(name)({2, 3}, {dtype = "int64"}).
                """) { lua in
                let (shape, next) = try lua.shape(from: 1)
                try lua.checkOptions(next, allowed: creationOptions, function: name)
                let dtype = try lua.option(next, "dtype", lua.dtype) ?? .f32
                return try finish(lua, try Tensor.full(shape, value: value, dtype: dtype), options: next)
            }
        }
        lua.register("empty", in: mpm, doc: """
            mpm.empty(size... [, {dtype=, requires_grad=}]) -> tensor
            A tensor whose contents are not initialised (fill it before reading).
            """) { lua in
            let (shape, next) = try lua.shape(from: 1)
            try lua.checkOptions(next, allowed: creationOptions, function: "empty")
            let dtype = try lua.option(next, "dtype", lua.dtype) ?? .f32
            return try finish(lua, try Tensor.empty(shape, dtype: dtype), options: next)
        }
        lua.register("full", in: mpm, doc: """
            mpm.full(size, value [, {dtype=, requires_grad=}]) -> tensor
            A tensor filled with value: mpm.full({2, 3}, 7).
            """) { lua in
            try lua.checkTable(1)
            let shape = try lua.integers(inTable: 1, what: "size")
            let value = try lua.number(2)
            try lua.checkOptions(3, allowed: creationOptions, function: "full")
            let dtype = try lua.option(3, "dtype", lua.dtype) ?? .f32
            return try finish(lua, try Tensor.full(shape, value: value, dtype: dtype), options: 3)
        }

        let likes: [(String, String, (Tensor, DType?) throws -> Tensor)] = [
            ("zeros_like", "zeros", { t, d in t.zerosLike(dtype: d) }),
            ("ones_like", "ones", { t, d in t.onesLike(dtype: d) }),
            ("empty_like", "uninitialised values", { t, d in t.emptyLike(dtype: d) }),
            ("rand_like", "uniform [0, 1) values", { t, _ in try Tensor.rand(t.shape) }),
            ("randn_like", "standard normal values", { t, _ in try Tensor.randn(t.shape) }),
        ]
        for (name, what, make) in likes {
            lua.register(name, in: mpm, doc: """
                mpm.\(name)(t [, {dtype=, requires_grad=}]) -> tensor
                A tensor shaped like t holding \(what).
                """) { lua in
                let like = try lua.tensor(1)
                try lua.checkOptions(2, allowed: creationOptions, function: name)
                return try finish(lua, try make(like, try lua.option(2, "dtype", lua.dtype)), options: 2)
            }
        }
        lua.register("full_like", in: mpm, doc: """
            mpm.full_like(t, value [, {dtype=, requires_grad=}]) -> tensor
            A tensor shaped like t filled with value.
            """) { lua in
            let like = try lua.tensor(1)
            let value = try lua.number(2)
            try lua.checkOptions(3, allowed: creationOptions, function: "full_like")
            return try finish(lua, like.fullLike(value, dtype: try lua.option(3, "dtype", lua.dtype)), options: 3)
        }

        lua.register("arange", in: mpm, doc: """
            mpm.arange(end) | mpm.arange(start, end [, step]) [, {dtype=, requires_grad=}] -> tensor
            Values start, start+step, ... below end, as torch.arange: integer arguments give int64.
            """) { lua in
            var numbers: [Double] = []
            var allIntegers = true
            var index: Int32 = 1
            while lua.type(index) == LUA_TNUMBER, numbers.count < 3 {
                numbers.append(try lua.number(index))
                allIntegers = allIntegers && lua_isinteger(lua.state, index) != 0
                index += 1
            }
            guard !numbers.isEmpty else { throw lua.typeError(1, expected: "number") }
            try lua.checkOptions(index, allowed: creationOptions, function: "arange")
            let dtype = try lua.option(index, "dtype", lua.dtype) ?? (allIntegers ? .i64 : .f32)
            let (start, end) = numbers.count == 1 ? (0, numbers[0]) : (numbers[0], numbers[1])
            let step = numbers.count == 3 ? numbers[2] : 1
            return try finish(lua, try Tensor.arange(start, end, step: step, dtype: dtype), options: index)
        }
        lua.register("linspace", in: mpm, doc: """
            mpm.linspace(start, end, steps [, {requires_grad=}]) -> tensor
            `steps` evenly spaced float32 values from start to end inclusive.
            """) { lua in
            try lua.checkOptions(4, allowed: ["requires_grad"], function: "linspace")
            let tensor = try Tensor.linspace(try lua.number(1), try lua.number(2), steps: try lua.integer(3))
            return try finish(lua, tensor, options: 4)
        }
        lua.register("eye", in: mpm, doc: """
            mpm.eye(n [, m] [, {dtype=, requires_grad=}]) -> tensor
            The n x m identity matrix (m defaults to n).
            """) { lua in
            let n = try lua.integer(1)
            let m: Int? = lua.type(2) == LUA_TNUMBER ? try lua.integer(2) : nil
            let options: Int32 = m == nil ? 2 : 3
            try lua.checkOptions(options, allowed: creationOptions, function: "eye")
            let dtype = try lua.option(options, "dtype", lua.dtype) ?? .f32
            return try finish(lua, try Tensor.eye(n, m, dtype: dtype), options: options)
        }
    }

    // MARK: Random

    private static func registerRandom(_ lua: LuaState, in mpm: Int32) {
        let randomOptions = ["dtype", "requires_grad", "generator"]
        func generator(_ lua: LuaState, _ options: Int32) throws -> Generator? {
            try lua.option(options, "generator") { try generatorClass.check(lua, $0) }
        }

        let shaped: [(String, String, ([Int], Generator?) throws -> Tensor)] = [
            ("rand", "uniform values in [0, 1)", { try Tensor.rand($0, generator: $1) }),
            ("randn", "standard normal values", { try Tensor.randn($0, generator: $1) }),
        ]
        for (name, what, make) in shaped {
            lua.register(name, in: mpm, doc: """
                mpm.\(name)(size... [, {generator=, requires_grad=}]) -> tensor
                A float32 tensor of \(what): mpm.\(name)(4, 3).
                """) { lua in
                let (shape, next) = try lua.shape(from: 1)
                try lua.checkOptions(next, allowed: randomOptions, function: name)
                return try finish(lua, try make(shape, try generator(lua, next)), options: next)
            }
        }
        lua.register("normal", in: mpm, doc: """
            mpm.normal(mean, std, size [, {generator=, requires_grad=}]) -> tensor
            Normal values with the given mean and standard deviation: mpm.normal(0, 0.02, {64, 32}).
            """) { lua in
            try lua.checkTable(3)
            let shape = try lua.integers(inTable: 3, what: "size")
            try lua.checkOptions(4, allowed: randomOptions, function: "normal")
            let tensor = try Tensor.normal(shape, mean: try lua.number(1), std: try lua.number(2),
                                           generator: try generator(lua, 4))
            return try finish(lua, tensor, options: 4)
        }
        lua.register("randint", in: mpm, doc: """
            mpm.randint(low, high, size [, {generator=}]) -> int64 tensor
            Integers uniform in [low, high), as torch.randint: mpm.randint(0, 10, {5}).
            """) { lua in
            try lua.checkTable(3)
            let shape = try lua.integers(inTable: 3, what: "size")
            try lua.checkOptions(4, allowed: ["generator"], function: "randint")
            lua.push(try Tensor.randint(Int64(try lua.integer(1)), Int64(try lua.integer(2)), shape,
                                        generator: try generator(lua, 4)))
            return 1
        }
        lua.register("randperm", in: mpm, doc: """
            mpm.randperm(n [, {generator=}]) -> int64 tensor
            A random permutation of the indices 1..n (1-based, for indexing).
            """) { lua in
            try lua.checkOptions(2, allowed: ["generator"], function: "randperm")
            lua.push(try Tensor.randperm(try lua.integer(1), generator: try generator(lua, 2)).add(1))
            return 1
        }
        lua.register("bernoulli", in: mpm, doc: """
            mpm.bernoulli(p [, {generator=}]) -> tensor
            1 with probability p (a tensor of probabilities), else 0; same shape and dtype as p.
            """) { lua in
            try lua.checkOptions(2, allowed: ["generator"], function: "bernoulli")
            lua.push(try lua.tensor(1).bernoulli(generator: try generator(lua, 2)))
            return 1
        }
        lua.register("multinomial", in: mpm, doc: """
            mpm.multinomial(probabilities, n [, {replacement=false, generator=}]) -> int64 tensor
            Draws n 1-based category indices per row of (unnormalised) probabilities.
            """) { lua in
            let probabilities = try lua.tensor(1)
            let samples = try lua.integer(2)
            try lua.checkOptions(3, allowed: ["replacement", "generator"], function: "multinomial")
            let replacement = try lua.option(3, "replacement", lua.boolean) ?? false
            lua.push(try probabilities.multinomial(numSamples: samples, replacement: replacement,
                                                   generator: try generator(lua, 3)).add(1))
            return 1
        }
        lua.register("manual_seed", in: mpm, doc: """
            mpm.manual_seed(n)
            Seeds the default generator: the same seed gives the same run, bit for bit.
            """) { lua in
            Generator.defaultGenerator.manualSeed(UInt64(bitPattern: Int64(try lua.integer(1))))
            return 0
        }
        lua.register("Generator", in: mpm, doc: """
            mpm.Generator([seed]) -> generator
            An independent random generator, passed as {generator = g} to random functions.
            """) { lua in
            lua.push(Generator(seed: UInt64(bitPattern: Int64(try lua.optionalInteger(1, default: 0)))))
            return 1
        }
        lua.register("default_generator", in: mpm, doc: """
            mpm.default_generator() -> generator
            The generator used when no {generator=} option is given.
            """) { lua in
            lua.push(Generator.defaultGenerator)
            return 1
        }
    }

    private static func makeGeneratorClass() -> LuaClass<Generator> {
        let generatorClass = LuaClass<Generator>(name: "generator")
        generatorClass.method("manual_seed", doc: "g:manual_seed(n): reseeds this generator") { lua, generator in
            generator.manualSeed(UInt64(bitPattern: Int64(try lua.integer(2))))
            return 0
        }
        generatorClass.method("get_state", doc: "g:get_state() -> table: the state, for saving") { lua, generator in
            let state = generator.state
            lua.newTable(array: Int32(state.count))
            for (position, word) in state.enumerated() {
                lua.push(Int(Int64(bitPattern: word)))
                lua_rawseti(lua.state, -2, lua_Integer(position + 1))
            }
            return 1
        }
        generatorClass.method("set_state", doc: "g:set_state(state): restores a state from get_state") { lua, generator in
            try lua.checkTable(2)
            let words = try lua.integers(inTable: 2, what: "state").map { UInt64(bitPattern: Int64($0)) }
            try generator.setState(words)
            return 0
        }
        generatorClass.description { _ in "generator" }
        return generatorClass
    }
}

extension LuaState {
    func push(_ generator: Generator) { TensorCreation.generatorClass.push(self, generator) }
}
