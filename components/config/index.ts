// The config feature: read and validate the stack's config, its types, defaults and kubeconfigs.
export * from "./defaults";
export * from "./kubeconfig";
export * from "./read";
export type { RawConfig } from "./readers";
export * from "./settings";
