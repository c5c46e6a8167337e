// The hollow nodes' own credentials in the target: TargetCredentials, the HollowCredentials issuer and its policy.
export * from "./certificateApi";
export * from "./csr";
export * from "./hollowCredentials";
export * from "./kubeconfigs";
export * from "./policy";
export * from "./provider";
export * from "./targetCredentials";
