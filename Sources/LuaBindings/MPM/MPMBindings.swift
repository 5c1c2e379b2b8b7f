import CLua
import Foundation
import CSupport
import MPM
import Tensors

/// Installs the Swift half of the MPM layer: `mpm.kmeans`, `mpm.ode`, `mpm.rq_spline`, `mpm.metrics`, the
/// `mpm.tasks` table and the internal `mpm._mpm` table the Lua half (lua/mpm/tasks) builds
/// `mpm.MPM`, the task classes and the tokenizer on.
enum MPMBindings {
    static func register(_ lua: LuaState, in mpm: Int32) {
        DroppedSetBinding.droppedSetClass.install(lua)
        lua.newTable()
        let kmeans = lua.top
        KernelBindings.registerKMeans(lua, in: kmeans)
        lua.setRawField(mpm, "kmeans")

        lua.newTable()
        let ode = lua.top
        KernelBindings.registerODE(lua, in: ode)
        lua.setRawField(mpm, "ode")

        KernelBindings.registerSpline(lua, in: mpm)

        lua.newTable()
        let metrics = lua.top
        MetricsBinding.register(lua, in: metrics)
        MetricsBinding.registerPairs(lua, in: metrics)
        GenerativeMetricsBinding.register(lua, in: metrics)
        lua.setRawField(mpm, "metrics")

        lua.newTable()
        lua.setRawField(mpm, "tasks")

        lua.newTable()
        let core = lua.top
        ModelBinding.register(lua, in: core)
        TaskBinding.register(lua, in: core)
        TokenizerBinding.register(lua, in: core)
        lua.setRawField(mpm, "_mpm")
    }
}
