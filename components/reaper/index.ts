// The stack's Nodes in the target: NodeReaper (destroy) and HollowNodeSync (up's sweep and readiness).
export * from "./provider";
export * from "./reap";
export * from "./resources";
export * from "./sync";
