// What every provider shares: bounded HTTP to API servers, the cluster API, async helpers, dynamic-provider basics.
export * from "./async";
export * from "./clusterApi";
export * from "./dynamic";
export * from "./dynamicResource";
export * from "./errors";
export * from "./http";
