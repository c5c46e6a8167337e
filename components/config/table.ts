// The README's configuration table, made from the keys and the named defaults so the two cannot drift apart.
import {
    CRI_SOCKETS, DEFAULT_BASE_IMAGE, DEFAULT_CONTAINER_RUNTIME, DEFAULT_CREATE_NAMESPACE, DEFAULT_CREDENTIAL_LIFETIME_HOURS,
    DEFAULT_GIT_REPOSITORY, DEFAULT_HOLLOW_PROXY, DEFAULT_IMAGE_NAME, DEFAULT_IMAGE_SERVICE, DEFAULT_IMAGE_SOURCE,
    DEFAULT_INIT_IMAGE, DEFAULT_KUBELET_CPU, DEFAULT_KUBELET_MEMORY, DEFAULT_LOG_VERBOSITY, DEFAULT_MAX_PODS,
    DEFAULT_NODE_TAINTS, DEFAULT_NODES_PER_POD, DEFAULT_PATCH_PROXY_HEALTH, DEFAULT_PRIVILEGED, DEFAULT_PROXY_CPU,
    DEFAULT_POD_CIDR_MASK, DEFAULT_READY_TIMEOUT_SECONDS, DEFAULT_REAPER_TIMEOUT_SECONDS, DEFAULT_REPLICAS, DEFAULT_WORKLOAD_KIND,
    LARGE_CLUSTER_NODES, LARGE_CLUSTER_PROXY_CPU, PROXY_MEMORY_BASE_KIB, PROXY_MEMORY_PER_NODE_KIB,
} from "./defaults";
import {
    CONFIG_KEYS, ConfigKey, CONTAINER_RUNTIMES, IMAGE_SERVICES, IMAGE_SOURCES, MAX_NODES_PER_POD, MAX_REPLICAS,
    MAX_POOLS, MIN_MINOR, PATCH_CRIO_CHOICES, POOL_LABEL_KEY, WORKLOAD_KINDS,
} from "./settings";
import { CAPACITY_MINORS, DEFAULT_PATCH_FLEET, minorsText, PROXY_HEALTH_MINORS } from "../image/patches";
import { TESTED_RANGE_TEXT } from "./releases";
import { poolTable } from "./pools";
import { MAX_POD_CIDR_MASK, MIN_POD_CIDR_MASK } from "./validate";

const code = (v: unknown) => `\`${typeof v === "string" ? v : JSON.stringify(v)}\``;
const either = (choices: readonly string[]) => choices.map(code).join(", ");

/** Each key's default, as users read it, and what it accepts. */
export const KEY_DOCS: Readonly<Record<ConfigKey, { readonly default: string; readonly accepted: string }>> = {
    kubernetesVersion: {
        default: "(required)",
        accepted: `\`vMAJOR.MINOR.PATCH\`, v1.${MIN_MINOR}.0 or newer (newer than ${TESTED_RANGE_TEXT}: a warning); a built image's source must have it`,
    },
    replicas: { default: code(DEFAULT_REPLICAS), accepted: `0 to ${MAX_REPLICAS} hollow Nodes` },
    nodesPerPod: {
        default: code(DEFAULT_NODES_PER_POD),
        accepted: `1 to ${MAX_NODES_PER_POD} hollow nodes per pod, named \`<pod>-<k>\`; \`replicas\` stays the number of Nodes`,
    },
    nodeKubeconfig: { default: "`$KUBECONFIG` (first file), then `~/.kube/config`", accepted: "kubeconfig file of the node cluster" },
    nodeContext: { default: "its current-context", accepted: "a context in that file" },
    targetKubeconfig: {
        default: "—", accepted: "kubeconfig file of the target cluster, used on this machine only (exec plugins work)",
    },
    targetContext: { default: "its current-context", accepted: "a context of the target kubeconfig (or of `nodeKubeconfig`)" },
    targetKubeconfigContent: { default: "—", accepted: "the target kubeconfig itself, **secret only** (`--secret ... < FILE`)" },
    namespace: { default: "`kubemark-<stack>`", accepted: "DNS-1123 label; created and owned by the stack" },
    createNamespace: { default: code(DEFAULT_CREATE_NAMESPACE), accepted: "`false`: use an existing `namespace` without owning it" },
    image: { default: "—", accepted: "a prebuilt kubemark image reference (instead of `imageRegistry`)" },
    imageRegistry: { default: "—", accepted: "`host[:port][/path]` this stack pushes the image it builds to" },
    imageName: { default: code(DEFAULT_IMAGE_NAME), accepted: "repository name of the built image" },
    initImage: { default: code(DEFAULT_INIT_IMAGE), accepted: "image with busybox's `sh` and `sysctl`, for the inotify init container" },
    containerRuntime: { default: code(DEFAULT_CONTAINER_RUNTIME), accepted: `${either(CONTAINER_RUNTIMES)} (picks the CRI socket)` },
    imageService: { default: code(DEFAULT_IMAGE_SERVICE), accepted: `${either(IMAGE_SERVICES)}: kubemark's own, or the node's CRI socket` },
    criSocket: {
        default: `${code(CRI_SOCKETS.containerd)} or ${code(CRI_SOCKETS["cri-o"])}`,
        accepted: "absolute host path, mounted with `imageService: host`",
    },
    hollowProxy: { default: code(DEFAULT_HOLLOW_PROXY), accepted: "run the hollow kube-proxy container" },
    privileged: { default: code(DEFAULT_PRIVILEGED), accepted: "`false` drops the init container, for clusters that forbid privileged pods" },
    nodeLabels: { default: "`[]`", accepted: "list of `key=value`" },
    nodeTaints: { default: code(DEFAULT_NODE_TAINTS), accepted: "list of `key[=value]:Effect`; `[]` for none" },
    maxPods: { default: code(DEFAULT_MAX_PODS), accepted: "pods per hollow Node" },
    extendedResources: { default: "`[]`", accepted: "list of `domain/name=count`, e.g. `example.com/gpu=8`" },
    kubeletCpu: { default: code(DEFAULT_KUBELET_CPU), accepted: "CPU request of each hollow kubelet (a pod asks `nodesPerPod` times it)" },
    kubeletMemory: { default: code(DEFAULT_KUBELET_MEMORY), accepted: "memory request of each hollow kubelet" },
    proxyCpu: {
        default: `${code(DEFAULT_PROXY_CPU)} (${code(LARGE_CLUSTER_PROXY_CPU)} above ${LARGE_CLUSTER_NODES} replicas)`,
        accepted: "CPU request of each hollow proxy",
    },
    proxyMemory: {
        default: `\`${PROXY_MEMORY_BASE_KIB}Ki\` + \`${PROXY_MEMORY_PER_NODE_KIB}Ki\` × replicas`, accepted: "memory request of each hollow proxy",
    },
    workloadKind: { default: code(DEFAULT_WORKLOAD_KIND), accepted: either(WORKLOAD_KINDS) },
    readyTimeoutSeconds: { default: code(DEFAULT_READY_TIMEOUT_SECONDS), accepted: "0 to 86400: how long `up` waits for Ready; `0` = no wait" },
    reaperTimeoutSeconds: { default: code(DEFAULT_REAPER_TIMEOUT_SECONDS), accepted: "5 to 3600: bound on destroy's Node removal and up's sweep" },
    logVerbosity: { default: code(DEFAULT_LOG_VERBOSITY), accepted: "0 to 10: klog `--v` of both containers" },
    credentialLifetimeHours: {
        default: code(DEFAULT_CREDENTIAL_LIFETIME_HOURS), accepted: "1 to 8760: certificate and token lifetime; `up` renews in the second half",
    },
    imageSource: { default: code(DEFAULT_IMAGE_SOURCE), accepted: `${either(IMAGE_SOURCES)}: where the built image's source comes from` },
    gitRepository: { default: code(DEFAULT_GIT_REPOSITORY), accepted: "git URL, `file://` path or absolute path" },
    sourceCache: { default: "`~/.cache/kubemark-pulumi`", accepted: "absolute path (or `~/...`)" },
    patchCrio: { default: "`auto`: on for cri-o with a built image", accepted: `${either(PATCH_CRIO_CHOICES)}: build kubemark dialing \`criSocket\`` },
    patchProxyHealth: { default: code(DEFAULT_PATCH_PROXY_HEALTH), accepted: `guard the hollow proxy's nil health server (${minorsText(PROXY_HEALTH_MINORS)})` },
    patchFleet: {
        default: code(DEFAULT_PATCH_FLEET),
        accepted: `build in the fleet patches (${minorsText(CAPACITY_MINORS)}): pool \`capacity\`, pod IPs from each Node's podCIDR, pods that finish`,
    },
    baseImage: { default: code(DEFAULT_BASE_IMAGE), accepted: "image reference or `scratch`" },
    registryUsername: { default: "—", accepted: "with `registryPassword`" },
    registryPassword: { default: "—", accepted: "with `registryUsername`, **secret only**" },
    podCidrRange: {
        default: "`\"\"` (none)",
        accepted: "IPv4 CIDR: `up` gives each hollow Node without a podCIDR a block of it, for pod IPs (when the target allocates none); needs `patchFleet`",
    },
    podCidrMaskSize: { default: code(DEFAULT_POD_CIDR_MASK), accepted: `${MIN_POD_CIDR_MASK} to ${MAX_POD_CIDR_MASK}: the prefix length of each Node's block` },
    pools: {
        default: "one pool, `default`, of the keys above",
        accepted: `1 to ${MAX_POOLS} pools of hollow Nodes, each its own workloads and Node label \`${POOL_LABEL_KEY}\`; fields below. Excludes \`replicas\``,
    },
};

/** The Markdown table, one row per key in the reader's order. */
export function configTable(): string {
    const rows = CONFIG_KEYS.map((k) => `| \`${k}\` | ${KEY_DOCS[k].default} | ${KEY_DOCS[k].accepted} |`);
    return ["| key | default | accepted |", "|---|---|---|", ...rows].join("\n") + "\n";
}

/** Where the tables sit in docs/configuration.md. */
export const TABLE_MARKERS = ["<!-- config-table: npm run docs writes it -->", "<!-- /config-table -->"] as const;
export const POOL_TABLE_MARKERS = ["<!-- pool-table: npm run docs writes it -->", "<!-- /pool-table -->"] as const;

function withBlock(doc: string, [open, close]: readonly [string, string], body: string): string {
    const start = doc.indexOf(open);
    const end = doc.indexOf(close);
    if (start < 0 || end < start) {
        throw new Error(`the configuration doc has no ${open} ... ${close} block`);
    }
    return `${doc.slice(0, start + open.length)}\n${body}${doc.slice(end)}`;
}

/** The configuration doc with both tables replaced by today's; throws when the markers are missing. */
export function withConfigTable(doc: string): string {
    return withBlock(withBlock(doc, TABLE_MARKERS, configTable()), POOL_TABLE_MARKERS, poolTable());
}
