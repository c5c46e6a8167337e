// Every default of the program, in one place: the config reader and the components apply these and no others.
import * as path from "path";
import type { ContainerResources, PoolFallback, PoolSettings, Taint, WorkloadSettings } from "./settings";

export const DEFAULT_REPLICAS = 10;
/** The one pool of a stack without `pools`; a pool of this name keeps the flat layout's workload and Node names. */
export const DEFAULT_POOL_NAME = "default";
/** One hollow kubelet (and proxy) per pod, as upstream's template; more per pod lifts the real node's pod limit. */
export const DEFAULT_NODES_PER_POD = 1;
/** Stable pod names are stable Node names: a restarted pod re-registers its own Node instead of a new one. */
export const DEFAULT_WORKLOAD_KIND = "StatefulSet";
/** The stack creates (and on destroy deletes) its namespace; false uses an existing one it never deletes. */
export const DEFAULT_CREATE_NAMESPACE = true;
export const DEFAULT_IMAGE_NAME = "kubemark";
export const DEFAULT_INIT_IMAGE = "busybox:1.36";
export const DEFAULT_CONTAINER_RUNTIME = "containerd";
/** kubemark's own image service needs no CRI socket on the node (`--use-host-image-service=false`). */
export const DEFAULT_IMAGE_SERVICE = "fake";
/** Where each runtime's CRI socket lives on a node, by default. */
export const CRI_SOCKETS = { "containerd": "/run/containerd/containerd.sock", "cri-o": "/run/crio/crio.sock" } as const;
/** Where kubemark dials the image service: hard-coded in pkg/kubemark/hollow_kubelet.go (no flag). */
export const KUBEMARK_IMAGE_ENDPOINT = CRI_SOCKETS.containerd;
export const DEFAULT_HOLLOW_PROXY = true;
/** As upstream's hollow-node template: the inotify init container and the hollow kubelet run privileged. */
export const DEFAULT_PRIVILEGED = true;
/** The kubelet's own default. */
export const DEFAULT_MAX_PODS = 110;
export const DEFAULT_LOG_VERBOSITY = 2;
/** Hollow nodes are tainted so real DaemonSets (CNI, kube-proxy) stay off them. */
export const DEFAULT_NODE_TAINT: Taint = { key: "kubemark-pulumi/hollow-node", value: "true", effect: "NoSchedule" };
export const DEFAULT_NODE_TAINTS: readonly string[] = [`${DEFAULT_NODE_TAINT.key}=${DEFAULT_NODE_TAINT.value}:${DEFAULT_NODE_TAINT.effect}`];

/**
 * Requests are per container, so a pod of nodesPerPod hollow nodes asks for that many times these. The kubelet's
 * are about three times what one used with 10 pods on its Node (bench/README.md, Density).
 */
export const DEFAULT_KUBELET_CPU = "20m";
/** Covers about 45 pods per hollow Node (16 MiB idle plus half a MiB per pod, bench/README.md). */
export const DEFAULT_KUBELET_MEMORY = "40Mi";
/** The proxy's work follows Services and EndpointSlices: raise proxyCpu for service-heavy tests. */
export const DEFAULT_PROXY_CPU = "5m";
/** start-kubemark.sh raises the proxy's CPU request above this many nodes. */
export const LARGE_CLUSTER_NODES = 1000;
export const LARGE_CLUSTER_PROXY_CPU = "50m";
/** A measured base (bench/README.md) and start-kubemark.sh's 50 KiB per node of the cluster. */
export const PROXY_MEMORY_BASE_KIB = 32 * 1024;
export const PROXY_MEMORY_PER_NODE_KIB = 50;

/** The hollow proxy's requests for a cluster of `replicas` hollow nodes (CPU as start-kubemark.sh). */
export function defaultProxyResources(replicas: number): ContainerResources {
    return {
        cpu: replicas > LARGE_CLUSTER_NODES ? LARGE_CLUSTER_PROXY_CPU : DEFAULT_PROXY_CPU,
        memory: `${PROXY_MEMORY_BASE_KIB + PROXY_MEMORY_PER_NODE_KIB * replicas}Ki`,
    };
}

/** A pool's proxy requests: its own, else the flat keys set by the user, else start-kubemark.sh's by its replicas. */
export function poolProxyResources(f: Pick<PoolFallback, "proxyCpu" | "proxyMemory">, replicas: number, own?: Partial<ContainerResources>): ContainerResources {
    const computed = defaultProxyResources(replicas);
    return { cpu: own?.cpu ?? f.proxyCpu ?? computed.cpu, memory: own?.memory ?? f.proxyMemory ?? computed.memory };
}

/** The one pool of a stack without `pools`: the flat settings, as before pools existed. */
export function defaultPool(w: Pick<WorkloadSettings, "replicas" | "nodesPerPod" | "nodeLabels" | "nodeTaints" | "maxPods"
    | "extendedResources" | "kubeletResources" | "proxyResources">): PoolSettings {
    return {
        name: DEFAULT_POOL_NAME, replicas: w.replicas, nodesPerPod: w.nodesPerPod, nodeLabels: w.nodeLabels, nodeTaints: w.nodeTaints,
        maxPods: w.maxPods, extendedResources: w.extendedResources, capacity: {}, zones: [], region: "",
        kubeletResources: w.kubeletResources, proxyResources: w.proxyResources,
    };
}

/** A /24 per Node, as kube-controller-manager's default for IPv4: 254 pod addresses, over twice the 110-pod limit. */
export const DEFAULT_POD_CIDR_MASK = 24;

export const DEFAULT_READY_TIMEOUT_SECONDS = 600;
export const DEFAULT_REAPER_TIMEOUT_SECONDS = 180;
/** How long `up` waits for the target's signer, per certificate from its approval. */
export const DEFAULT_ISSUE_TIMEOUT_SECONDS = 300;
/**
 * A week, renewed by any `up` in its second half: short enough that a copied credential soon stops working (a
 * certificate cannot be revoked).
 */
export const DEFAULT_CREDENTIAL_LIFETIME_HOURS = 168;

/** Upstream's cluster/images/kubemark base; it lives in registry.k8s.io, hence configurable. */
export const DEFAULT_BASE_IMAGE = "registry.k8s.io/build-image/go-runner:v2.3.1-go1.17.2-bullseye.0";
export const DEFAULT_GIT_REPOSITORY = "https://github.com/kubernetes/kubernetes.git";
export const DEFAULT_IMAGE_SOURCE = "git";
/** auto: the cri-o patch is built in only where it is needed, for cri-o with an image this stack builds. */
export const DEFAULT_PATCH_CRIO = "auto";
export const DEFAULT_PATCH_PROXY_HEALTH = true;

/** The program's cache on this machine (sources, build contexts, serialized providers), shared by stacks. */
export function defaultCacheDir(env: Readonly<Record<string, string | undefined>>): string {
    return path.join(env.XDG_CACHE_HOME ?? path.join(env.HOME ?? "/root", ".cache"), "kubemark-pulumi");
}

/** The workload's defaults for `replicas` hollow nodes: what a component falls back to for each setting left out. */
export function workloadDefaults(replicas: number): WorkloadSettings {
    const flat: Omit<WorkloadSettings, "pools"> = {
        replicas,
        nodesPerPod: DEFAULT_NODES_PER_POD,
        workloadKind: DEFAULT_WORKLOAD_KIND,
        createNamespace: DEFAULT_CREATE_NAMESPACE,
        initImage: DEFAULT_INIT_IMAGE,
        imageService: DEFAULT_IMAGE_SERVICE,
        criSocket: CRI_SOCKETS[DEFAULT_CONTAINER_RUNTIME],
        imageEndpoint: KUBEMARK_IMAGE_ENDPOINT,
        hollowProxy: DEFAULT_HOLLOW_PROXY,
        privileged: DEFAULT_PRIVILEGED,
        nodeLabels: [],
        nodeTaints: [DEFAULT_NODE_TAINT],
        maxPods: DEFAULT_MAX_PODS,
        extendedResources: [],
        kubeletResources: { cpu: DEFAULT_KUBELET_CPU, memory: DEFAULT_KUBELET_MEMORY },
        proxyResources: defaultProxyResources(replicas),
        logVerbosity: DEFAULT_LOG_VERBOSITY,
        readyTimeoutSeconds: DEFAULT_READY_TIMEOUT_SECONDS,
        reaperTimeoutSeconds: DEFAULT_REAPER_TIMEOUT_SECONDS,
        credentialLifetimeHours: DEFAULT_CREDENTIAL_LIFETIME_HOURS,
        podCidrRange: "",
        podCidrMaskSize: DEFAULT_POD_CIDR_MASK,
    };
    return { ...flat, pools: [defaultPool(flat)] };
}

/**
 * Each key of `defaults` from `given` where it is set, else the default: `??`, so 0 and false are kept. Keys not
 * in `defaults` are left out, which also picks a settings subset out of the whole Settings.
 */
export function withDefaults<T extends object>(defaults: T, given: Partial<T>): T {
    const out = {} as T;
    for (const key of Object.keys(defaults) as (keyof T)[]) {
        out[key] = given[key] ?? defaults[key];
    }
    return out;
}

/** The workload settings out of whole settings (or of a component's args), every one left out defaulted. */
export function workloadSettings(given: Partial<WorkloadSettings>): WorkloadSettings {
    const w = withDefaults(workloadDefaults(given.replicas ?? DEFAULT_REPLICAS), given);
    // Without pools, the one pool is the flat settings as given, not the defaults'.
    return given.pools === undefined ? { ...w, pools: [defaultPool(w)] } : w;
}
