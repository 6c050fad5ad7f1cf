/** Injection token of the frozen ControlPlaneConfig. */
export const CONFIG = Symbol('ControlPlaneConfig');
