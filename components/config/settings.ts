// What the config reader returns: the Settings type, the keys, the accepted values and bounds, and stack names.
import { createHash } from "crypto";

export const CONFIG_NAMESPACE = "kubemark";
/** The oldest release this program builds and runs (kubemark's flags it relies on exist since v1.29). */
export const MIN_MINOR = 29;
export const MAX_REPLICAS = 10000;
/** Each pool is a workload (one per zone) with its own rollout and readiness; more is a sign of a config mistake. */
export const MAX_POOLS = 20;
/**
 * Each hollow kubelet in a pod listens on its own pair of ports; 50 keeps a pod's spec and start-up burst reasonable.
 */
export const MAX_NODES_PER_POD = 50;
export const IMAGE_SOURCES = ["git", "module"] as const;
export const PATCH_CRIO_CHOICES = ["auto", "true", "false"] as const;
export const CONTAINER_RUNTIMES = ["containerd", "cri-o"] as const;
export const IMAGE_SERVICES = ["fake", "host"] as const;
export const WORKLOAD_KINDS = ["StatefulSet", "Deployment", "ReplicationController"] as const;
export const TAINT_EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"] as const;

export type ContainerRuntime = typeof CONTAINER_RUNTIMES[number];
export type ImageService = typeof IMAGE_SERVICES[number];
export type WorkloadKind = typeof WORKLOAD_KINDS[number];
export type TaintEffect = typeof TAINT_EFFECTS[number];

export interface KubernetesVersion {
    readonly text: string;
    readonly major: number;
    readonly minor: number;
    readonly patch: number;
}
export interface Taint { readonly key: string; readonly value: string; readonly effect: TaintEffect }
export interface ClusterRef {
    /** Kubeconfig file; undefined for contents given inline. */
    readonly kubeconfigPath?: string;
    /** Which config key named the file, for error messages. */
    readonly kubeconfigKey: string;
    readonly context?: string;
    readonly contextKey: string;
}
export interface TargetRef extends ClusterRef {
    /** True when the target is the node cluster itself (no target key set). */
    readonly sameAsNodeCluster: boolean;
    /** Kubeconfig YAML given as the secret config value. */
    readonly kubeconfigContent?: string;
}
export type ImageSource =
    | { readonly kind: "prebuilt"; readonly reference: string }
    | { readonly kind: "registry"; readonly registry: string; readonly name: string };
export interface ImageBuild {
    /** git (shallow clone of the tag) or module (Go module proxy). */
    readonly source: "git" | "module";
    readonly gitRepository: string;
    /** Cache folder for sources and build contexts; undefined means the default under ~/.cache. */
    readonly cacheDir?: string;
    /** The binary dials cri-o's socket (criSocket) instead of containerd's. */
    readonly patchCrio: boolean;
    /** Guard the hollow proxy's nil health server where the release needs it (PROXY_HEALTH_MINORS: v1.30–v1.33). */
    readonly patchProxyHealth: boolean;
    /** Build in the fleet patches: pool capacity, pod IPs from each Node's podCIDR, pods that finish. */
    readonly patchFleet: boolean;
    readonly baseImage: string;
    readonly registryUsername?: string;
    /** Holds a credential. */
    readonly registryPassword?: string;
}
export interface ContainerResources { readonly cpu: string; readonly memory: string }

/** What each hollow Node of a pool reports as its machine; a field left out keeps kubemark's fake value. */
export interface NodeCapacity {
    /** Whole cores (cadvisor's NumCores is an integer). Unset: kubemark's 1. */
    readonly cpu?: string;
    /** Unset: kubemark's 3.75 GiB. */
    readonly memory?: string;
    /** Unset: kubemark's 0 (no ephemeral-storage capacity). */
    readonly ephemeralStorage?: string;
}

/**
 * One pool of alike hollow Nodes: its own workloads (one per zone), Node label `kubemark-pulumi/pool=<name>`,
 * capacity and requests. A stack without `pools` has one, DEFAULT_POOL_NAME, made of the flat keys.
 */
export interface PoolSettings {
    readonly name: string;
    readonly replicas: number;
    readonly nodesPerPod: number;
    /** The pool's own Node labels, sorted by key (pool, zone and region labels are added by the program). */
    readonly nodeLabels: readonly (readonly [string, string])[];
    readonly nodeTaints: readonly Taint[];
    readonly maxPods: number;
    readonly extendedResources: readonly (readonly [string, string])[];
    readonly capacity: NodeCapacity;
    /** Zones the pool's Nodes are spread over round-robin, one workload each; empty: no zone label. */
    readonly zones: readonly string[];
    /** `topology.kubernetes.io/region` of every Node of the pool; "" for none. */
    readonly region: string;
    readonly kubeletResources: ContainerResources;
    readonly proxyResources: ContainerResources;
}

/**
 * How the hollow nodes run: the HollowNodes component's settings. Each is defaulted by workloadDefaults
 * (defaults.ts), named below.
 */
export interface WorkloadSettings {
    /** Hollow Nodes to run. Defaults to DEFAULT_REPLICAS. */
    readonly replicas: number;
    /**
     * Hollow nodes per pod, named `<pod>-<k>`; the workload runs the full pods, a second one (`<workload>-last`,
     * 0 or 1 pod) the rest. Defaults to DEFAULT_NODES_PER_POD (one per pod, named as the pod, as upstream).
     */
    readonly nodesPerPod: number;
    /** StatefulSet, Deployment or ReplicationController. Defaults to DEFAULT_WORKLOAD_KIND. */
    readonly workloadKind: WorkloadKind;
    /**
     * Create the namespace (and delete it on destroy); false uses an existing one, left as it is. Defaults to
     * DEFAULT_CREATE_NAMESPACE.
     */
    readonly createNamespace: boolean;
    /** Image with `sh` and `sysctl` for the inotify init container. Defaults to DEFAULT_INIT_IMAGE. */
    readonly initImage: string;
    /** `fake` (kubemark's own, no socket) or `host` (the node's CRI). Defaults to DEFAULT_IMAGE_SERVICE. */
    readonly imageService: ImageService;
    /**
     * Host path of the CRI socket, mounted for the host image service. Defaults to CRI_SOCKETS of
     * DEFAULT_CONTAINER_RUNTIME.
     */
    readonly criSocket: string;
    /**
     * Where the kubemark binary dials the image service. Defaults to KUBEMARK_IMAGE_ENDPOINT (upstream's hard-coded
     * path).
     */
    readonly imageEndpoint: string;
    /** Run the hollow kube-proxy container. Defaults to DEFAULT_HOLLOW_PROXY. */
    readonly hollowProxy: boolean;
    /**
     * Run the inotify init container and the hollow kubelet privileged; false drops the init container. Defaults to
     * DEFAULT_PRIVILEGED.
     */
    readonly privileged: boolean;
    /** Extra Node labels, sorted by key. Defaults to none. */
    readonly nodeLabels: readonly (readonly [string, string])[];
    /** Node taints. Defaults to DEFAULT_NODE_TAINT. */
    readonly nodeTaints: readonly Taint[];
    /** `--max-pods` of each hollow kubelet. Defaults to DEFAULT_MAX_PODS. */
    readonly maxPods: number;
    /** Extended resources each hollow Node advertises, sorted by name. Defaults to none. */
    readonly extendedResources: readonly (readonly [string, string])[];
    /** Hollow kubelet requests, per hollow node. Defaults to DEFAULT_KUBELET_CPU and DEFAULT_KUBELET_MEMORY. */
    readonly kubeletResources: ContainerResources;
    /** Hollow proxy requests, per hollow node. Defaults to defaultProxyResources(replicas). */
    readonly proxyResources: ContainerResources;
    /** klog verbosity of both containers. Defaults to DEFAULT_LOG_VERBOSITY. */
    readonly logVerbosity: number;
    /** Bound on up's wait for Ready Nodes; 0 skips it. Defaults to DEFAULT_READY_TIMEOUT_SECONDS. */
    readonly readyTimeoutSeconds: number;
    /** Bound on destroy's Node removal and on up's stale-Node sweep. Defaults to DEFAULT_REAPER_TIMEOUT_SECONDS. */
    readonly reaperTimeoutSeconds: number;
    /**
     * Lifetime of the per-node certificates and tokens; `up` renews them in its second half. Defaults to
     * DEFAULT_CREDENTIAL_LIFETIME_HOURS.
     */
    readonly credentialLifetimeHours: number;
    /**
     * The pools of hollow Nodes, by name. Defaults to one pool, DEFAULT_POOL_NAME, of the flat settings above
     * (replicas, nodesPerPod, nodeLabels, nodeTaints, maxPods, extendedResources and the requests).
     */
    readonly pools: readonly PoolSettings[];
    /**
     * A range whose blocks of podCidrMaskSize `up` gives the stack's Nodes that have no podCIDR (a target whose
     * controller manager does not allocate them); "" gives none. Defaults to "".
     */
    readonly podCidrRange: string;
    /** Size of each Node's block of podCidrRange. Defaults to DEFAULT_POD_CIDR_MASK. */
    readonly podCidrMaskSize: number;
}

/** The flat values a pool falls back to for every field it leaves out (read above `pools` in the table). */
export interface PoolFallback {
    readonly nodesPerPod: number;
    readonly nodeLabels: readonly (readonly [string, string])[];
    readonly nodeTaints: readonly Taint[];
    readonly maxPods: number;
    readonly extendedResources: readonly (readonly [string, string])[];
    readonly kubeletCpu: string;
    readonly kubeletMemory: string;
    /** Set by the user (else the default follows each pool's replicas). */
    readonly proxyCpu?: string;
    readonly proxyMemory?: string;
}

/** Everything the program reads from config, validated and defaulted. */
export interface Settings extends WorkloadSettings {
    readonly project: string;
    readonly stack: string;
    /** The stack name made safe for Kubernetes names. */
    readonly stackSlug: string;
    /** Value of the `kubemark-pulumi/stack` label, unique to this project and stack. */
    readonly stackLabelValue: string;
    readonly kubernetesVersion: KubernetesVersion;
    readonly nodeCluster: ClusterRef;
    readonly targetCluster: TargetRef;
    readonly namespace: string;
    readonly workloadName: string;
    /** Stack-owned namespace in the target holding the hollow nodes' ServiceAccounts. */
    readonly identityNamespace: string;
    readonly image: ImageSource;
    readonly imageBuild: ImageBuild;
    readonly containerRuntime: ContainerRuntime;
}

/** Every key this program reads; anything else under `kubemark:` is a typo and is refused. */
export const CONFIG_KEYS = [
    "kubernetesVersion", "replicas", "nodesPerPod", "nodeKubeconfig", "nodeContext", "targetKubeconfig", "targetContext",
    "targetKubeconfigContent", "namespace", "createNamespace", "image", "imageRegistry", "imageName", "initImage",
    "containerRuntime", "imageService", "criSocket", "hollowProxy", "privileged", "nodeLabels", "nodeTaints", "maxPods",
    "extendedResources", "kubeletCpu", "kubeletMemory", "proxyCpu", "proxyMemory", "workloadKind",
    "readyTimeoutSeconds", "reaperTimeoutSeconds", "logVerbosity", "credentialLifetimeHours",
    "imageSource", "gitRepository", "sourceCache", "patchCrio", "patchProxyHealth", "patchFleet", "baseImage",
    "registryUsername", "registryPassword", "pools", "podCidrRange", "podCidrMaskSize",
] as const;
export type ConfigKey = typeof CONFIG_KEYS[number];
export const SECRET_KEYS: readonly ConfigKey[] = ["targetKubeconfigContent", "registryPassword"];

/** The label every hollow Node of every stack carries, as in the seed guide. */
export const HOLLOW_LABEL_KEY = "hollow-node";
/** The label unique to one project and stack: the only thing destroy selects on. */
export const STACK_LABEL_KEY = "kubemark-pulumi/stack";

/** Every hollow Node's pool: what `npm run measure --pool` and users select a pool's Nodes by. */
export { POOL_LABEL_KEY } from "../hollow/names";
/** Well-known topology labels; the kubelet may set them on its own Node (NodeRestriction allows them). */
export const ZONE_LABEL_KEY = "topology.kubernetes.io/zone";
export const REGION_LABEL_KEY = "topology.kubernetes.io/region";

/** Hex digits of the hash that keeps a shortened name unique: 24 bits, one clash in 16 million same-prefix names. */
export const NAME_HASH_CHARS = 6;
/** Label values and DNS-1123 labels (namespaces) are at most 63 characters. */
export const MAX_LABEL_LENGTH = 63;
/** Leaves room in names derived from the stack's: `kubemark-<slug>-identity`, `hollow-node-<slug>-last`. */
export const MAX_STACK_SLUG = 30;
/**
 * A StatefulSet's name must leave room in its pods' `controller-revision-hash` label (63 characters) for a dash and
 * a 10-character hash, so 52; its `-last` twin takes 5 of those.
 */
export const MAX_WORKLOAD_NAME = 52 - "-last".length;

/** Shortens `text` to `max` characters, keeping it unique with a hash suffix. */
export function boundedName(text: string, max: number): string {
    if (text.length <= max) {
        return text;
    }
    const hash = createHash("sha256").update(text).digest("hex").slice(0, NAME_HASH_CHARS);
    return `${text.slice(0, max - NAME_HASH_CHARS - 1).replace(/[-_.]+$/, "")}-${hash}`;
}

export function stackSlug(stack: string): string {
    const slug = stack.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "") || "stack";
    return boundedName(slug, MAX_STACK_SLUG);
}

/** The value of this stack's unique Node label: `<project>.<stack>`, label-safe. */
export function stackLabelValue(project: string, stack: string): string {
    const raw = `${project}.${stack}`.replace(/[^A-Za-z0-9-_.]+/g, "-").replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, "");
    return boundedName(raw || "stack", MAX_LABEL_LENGTH);
}
