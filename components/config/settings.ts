// The settings every component reads: named defaults, accepted values, the Settings type, keys and stack names.
import { createHash } from "crypto";

export const CONFIG_NAMESPACE = "kubemark";
export const MIN_MINOR = 29;
export const DEFAULT_REPLICAS = 10;
export const MAX_REPLICAS = 10000;
/** One hollow kubelet (and proxy) per pod, as upstream; more per pod lifts the real node's pod limit off the density. */
export const DEFAULT_NODES_PER_POD = 1;
/** Each hollow kubelet in a pod listens on its own pair of ports; 50 keeps a pod's spec and its start-up burst reasonable. */
export const MAX_NODES_PER_POD = 50;
export const DEFAULT_IMAGE_NAME = "kubemark";
export const DEFAULT_CONTAINER_RUNTIME = "containerd";
export const DEFAULT_IMAGE_SERVICE = "fake";
export const DEFAULT_HOLLOW_PROXY = true;
/** As upstream's hollow-node template: the inotify init container and the hollow kubelet run privileged. */
export const DEFAULT_PRIVILEGED = true;
/** The stack creates (and on destroy deletes) its namespace; false uses an existing one it never deletes. */
export const DEFAULT_CREATE_NAMESPACE = true;
export const DEFAULT_MAX_PODS = 110;
export const DEFAULT_WORKLOAD_KIND = "StatefulSet";
export const DEFAULT_INIT_IMAGE = "busybox:1.36";
/**
 * Requests are per container, so a pod of nodesPerPod hollow nodes asks for that many times these.
 * Hollow kubelet, measured in the lab (npm run bench:density, v1.31.0, GOMAXPROCS=1): 3.3-3.9m CPU idle, 6.0m with
 * 10 pods on its Node; 20m leaves over 3x headroom (start-kubemark.sh's 40m was sized before those figures).
 */
export const DEFAULT_KUBELET_CPU = "20m";
/**
 * Hollow kubelet RSS: about 16 MiB idle, 20.5 MiB with 10 pods on its Node (half a MiB per pod, bench:density).
 * 40Mi covers about 45 pods per hollow Node; denser tests want kubeletMemory of 16Mi + 0.5Mi per pod, with headroom.
 */
export const DEFAULT_KUBELET_MEMORY = "40Mi";
/**
 * Hollow proxy: under 0.1m CPU idle and with pods (bench:density). Its work follows Services and EndpointSlices, which
 * the bench does not create: raise proxyCpu for service-heavy tests (start-kubemark.sh asks 20m).
 */
export const DEFAULT_PROXY_CPU = "5m";
/** start-kubemark.sh raises the proxy's CPU request above this many nodes. */
export const LARGE_CLUSTER_NODES = 1000;
export const LARGE_CLUSTER_PROXY_CPU = "50m";
/**
 * Hollow proxy RSS: 12.0 MiB idle and with pods at 10 per pod (bench:density), so a 32 MiB base; the per-node
 * term is start-kubemark.sh's (50 KiB per node), not measurable at these sizes.
 */
export const PROXY_MEMORY_BASE_KIB = 32 * 1024;
export const PROXY_MEMORY_PER_NODE_KIB = 50;

/** The hollow proxy's requests for a cluster of `replicas` hollow nodes (CPU as start-kubemark.sh). */
export function defaultProxyResources(replicas: number): ContainerResources {
    return {
        cpu: replicas > LARGE_CLUSTER_NODES ? LARGE_CLUSTER_PROXY_CPU : DEFAULT_PROXY_CPU,
        memory: `${PROXY_MEMORY_BASE_KIB + PROXY_MEMORY_PER_NODE_KIB * replicas}Ki`,
    };
}
export const DEFAULT_READY_TIMEOUT_SECONDS = 600;
export const DEFAULT_REAPER_TIMEOUT_SECONDS = 180;
/**
 * Lifetime of each hollow kubelet's client certificate and the proxy's token: a week, renewed by any `up`
 * in its second half. Short enough that a copied credential soon stops working (a certificate cannot be revoked).
 */
export const DEFAULT_CREDENTIAL_LIFETIME_HOURS = 168;
export const DEFAULT_LOG_VERBOSITY = 2;
/** Hollow nodes are tainted by default so real DaemonSets (CNI, kube-proxy) stay off them. */
export const DEFAULT_NODE_TAINT = { key: "kubemark-pulumi/hollow-node", value: "true", effect: "NoSchedule" } as const;
export const DEFAULT_NODE_TAINTS: readonly string[] = [`${DEFAULT_NODE_TAINT.key}=${DEFAULT_NODE_TAINT.value}:${DEFAULT_NODE_TAINT.effect}`];
export const CRI_SOCKETS = { "containerd": "/run/containerd/containerd.sock", "cri-o": "/run/crio/crio.sock" } as const;

/** Upstream's cluster/images/kubemark base; it lives in registry.k8s.io, hence configurable. */
export const DEFAULT_BASE_IMAGE = "registry.k8s.io/build-image/go-runner:v2.3.1-go1.17.2-bullseye.0";
export const DEFAULT_GIT_REPOSITORY = "https://github.com/kubernetes/kubernetes.git";
export const DEFAULT_IMAGE_SOURCE = "git";
/** auto: the cri-o patch is built in only where it is needed, for cri-o with an image this stack builds. */
export const DEFAULT_PATCH_CRIO = "auto";
export const DEFAULT_PATCH_PROXY_HEALTH = true;
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
    /** Guard the hollow proxy's nil health server (v1.30+). */
    readonly patchProxyHealth: boolean;
    readonly baseImage: string;
    readonly registryUsername?: string;
    /** Holds a credential. */
    readonly registryPassword?: string;
}
export interface ContainerResources { readonly cpu: string; readonly memory: string }

export interface Settings {
    readonly project: string;
    readonly stack: string;
    /** The stack name made safe for Kubernetes names. */
    readonly stackSlug: string;
    /** Value of the `kubemark-pulumi/stack` label, unique to this project and stack. */
    readonly stackLabelValue: string;
    readonly kubernetesVersion: KubernetesVersion;
    readonly replicas: number;
    /** Hollow nodes per pod: each pod runs this many hollow kubelets (and proxies). */
    readonly nodesPerPod: number;
    readonly nodeCluster: ClusterRef;
    readonly targetCluster: TargetRef;
    readonly namespace: string;
    /** False: the namespace exists already; the stack creates only its own objects inside it. */
    readonly createNamespace: boolean;
    readonly workloadName: string;
    readonly image: ImageSource;
    readonly imageBuild: ImageBuild;
    readonly initImage: string;
    readonly containerRuntime: ContainerRuntime;
    readonly imageService: ImageService;
    /** Host path of the CRI socket, mounted only for the host image service. */
    readonly criSocket: string;
    readonly hollowProxy: boolean;
    /** Run the init container and hollow kubelet privileged; false drops the init container. */
    readonly privileged: boolean;
    /** Sorted by key. */
    readonly nodeLabels: readonly (readonly [string, string])[];
    readonly nodeTaints: readonly Taint[];
    readonly maxPods: number;
    /** Sorted by name. */
    readonly extendedResources: readonly (readonly [string, string])[];
    readonly kubeletResources: ContainerResources;
    readonly proxyResources: ContainerResources;
    readonly workloadKind: WorkloadKind;
    readonly readyTimeoutSeconds: number;
    readonly reaperTimeoutSeconds: number;
    readonly logVerbosity: number;
    /** Lifetime of the hollow nodes' certificates and token; `up` renews them in its second half. */
    readonly credentialLifetimeHours: number;
    /** Stack-owned namespace in the target holding the hollow proxy's ServiceAccount. */
    readonly identityNamespace: string;
}

/** Every key this program reads; anything else under `kubemark:` is a typo and is refused. */
export const CONFIG_KEYS = [
    "kubernetesVersion", "replicas", "nodesPerPod", "nodeKubeconfig", "nodeContext", "targetKubeconfig", "targetContext",
    "targetKubeconfigContent", "namespace", "createNamespace", "image", "imageRegistry", "imageName", "initImage",
    "containerRuntime", "imageService", "criSocket", "hollowProxy", "privileged", "nodeLabels", "nodeTaints", "maxPods",
    "extendedResources", "kubeletCpu", "kubeletMemory", "proxyCpu", "proxyMemory", "workloadKind",
    "readyTimeoutSeconds", "reaperTimeoutSeconds", "logVerbosity", "credentialLifetimeHours",
    "imageSource", "gitRepository", "sourceCache", "patchCrio", "patchProxyHealth", "baseImage",
    "registryUsername", "registryPassword",
] as const;
export type ConfigKey = typeof CONFIG_KEYS[number];
export const SECRET_KEYS: readonly ConfigKey[] = ["targetKubeconfigContent", "registryPassword"];

/** The label every hollow Node of every stack carries, as in the seed guide. */
export const HOLLOW_LABEL_KEY = "hollow-node";
/** The label unique to one project and stack: the only thing destroy selects on. */
export const STACK_LABEL_KEY = "kubemark-pulumi/stack";

/** Shortens `text` to `max` characters, keeping it unique with a hash suffix. */
export function boundedName(text: string, max: number): string {
    if (text.length <= max) {
        return text;
    }
    const hash = createHash("sha256").update(text).digest("hex").slice(0, 6);
    return `${text.slice(0, max - 7).replace(/[-_.]+$/, "")}-${hash}`;
}

export function stackSlug(stack: string): string {
    const slug = stack.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "") || "stack";
    return boundedName(slug, 30);
}

/** The value of this stack's unique Node label: `<project>.<stack>`, label-safe. */
export function stackLabelValue(project: string, stack: string): string {
    const raw = `${project}.${stack}`.replace(/[^A-Za-z0-9-_.]+/g, "-").replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, "");
    return boundedName(raw || "stack", 63);
}
