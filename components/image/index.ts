// The kubemark image: the KubemarkImage component, its build plan and the source patches each release needs.
export * from "./kubemarkImage";
export * from "./patches";
export * from "./plan";
