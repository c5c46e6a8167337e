// The hollow-node workload: the HollowNodes component, its pod spec builders and how hollow Nodes are named.
export * from "./hollowNodes";
export * from "./names";
export * from "./podspec";
