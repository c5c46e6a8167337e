// The contract of the fleet patches (patches/kubemark/*.go) in one place, for the pod spec and the tests alike.

/** Hollow-node flag: `--node-capacity=cpu=8,memory=32Gi,ephemeral-storage=100Gi`, any subset of the keys. */
export const NODE_CAPACITY_FLAG = "--node-capacity";
/** The keys `--node-capacity` accepts; cpu in whole cores (cadvisor's NumCores is an integer). */
export const NODE_CAPACITY_KEYS = ["cpu", "memory", "ephemeral-storage"] as const;
/**
 * Hollow-node flag: when a pod sandbox is made before the kubelet passed the Node's podCIDR on, whether the runtime
 * reads the Node for it: `young-node` (the patch's default: while the Node is under a minute old, when a controller
 * manager allocates), `always` (the stack hands podCIDRs out at `up`), `never`.
 */
export const POD_CIDR_LOOKUP_FLAG = "--pod-cidr-lookup";
/** Pod annotation: its containers exit this many seconds (a whole number, 0 or more) after each start. */
export const RUN_SECONDS_ANNOTATION = "kubemark-pulumi/run-seconds";
/** Pod annotation, with RUN_SECONDS_ANNOTATION: the exit code (0 to 255, default 0). */
export const EXIT_CODE_ANNOTATION = "kubemark-pulumi/exit-code";
