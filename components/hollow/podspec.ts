// Pure builders for the hollow-node pod: kubemark flags, pod spec and workload manifests.
import type { ContainerResources, NodeCapacity, Settings, WorkloadKind } from "../config/settings";
import { HOLLOW_LABEL_KEY, STACK_LABEL_KEY } from "../config/settings";
import { INSTANCE_LABEL_KEY, POD_NODES_ANNOTATION, POOL_LABEL_KEY } from "./names";
import { capacityFlagValue } from "./pools";
import { NODE_CAPACITY_FLAG, POD_CIDR_LOOKUP_FLAG } from "../image/fleetFlags";
import { certKey, CREDENTIALS_MOUNT, KUBELET_CERT_FILE, KUBELET_KEY_FILE, KUBELET_KUBECONFIG_KEY, keyKey, PROXY_KUBECONFIG_KEY } from "../credentials/kubeconfigs";

/**
 * Hollow kubelets on one host exhaust the default 128 inotify instances (kubernetes#41713). Each holds 2 and all run
 * as root, so upstream's 1000 stops near 500 per real node, which nodesPerPod reaches.
 */
export const INOTIFY_MAX_USER_INSTANCES = 8192;
/** As upstream's hollow-node template: survive a short partition of the node cluster's node. */
export const UNREACHABLE_TOLERATION_SECONDS = 900;
/** The hollow processes keep no state worth a graceful stop; a long grace only slows scale-down and destroy. */
export const TERMINATION_GRACE_SECONDS = 5;

/** The pod's settings: the config's own fields, plus what the component decides. */
export interface HollowPodOptions extends Pick<Settings, "initImage" | "stackLabelValue" | "workloadName" | "imageService"
    | "criSocket" | "hollowProxy" | "nodeLabels" | "nodeTaints" | "maxPods" | "extendedResources" | "kubeletResources"
    | "proxyResources" | "logVerbosity" | "privileged"> {
    /** The kubemark image reference (a digest reference rolls pods when the image is rebuilt). */
    readonly image: string;
    /**
     * Secrets with the target credentials: the first holds `kubelet.kubeconfig` and `kubeproxy.kubeconfig`,
     * the others (StatefulSet only) each node's `<node>.crt` and `<node>.key`.
     */
    readonly credentialSecrets: readonly string[];
    /** Each hollow kubelet mounts its own certificate, picked by its pod (= Node) name. */
    readonly perNodeCertificates: boolean;
    /** Path inside the container that kubemark dials; upstream binaries use KUBEMARK_IMAGE_ENDPOINT. */
    readonly imageEndpoint: string;
    /**
     * Hollow nodes in each pod, named `<pod>-<k>` and announced by POD_NODES_ANNOTATION; undefined runs one,
     * named as its pod, exactly as before nodesPerPod existed.
     */
    readonly nodesInPod?: number;
    /** What each hollow Node reports as its machine (a patched image's `--node-capacity`); empty: kubemark's fakes. */
    readonly capacity?: NodeCapacity;
    /** The pool the pods belong to: a template label, so the sync can label Nodes registered before pools. */
    readonly poolName?: string;
    /**
     * The range `up` hands podCIDRs out of (settings' podCidrRange); set, the runtimes look for their Node's podCIDR
     * for as long as they have none (`--pod-cidr-lookup=always`), since `up` gives it after the Nodes register.
     */
    readonly podCidrRange?: string;
}



/** Each hollow kubelet of a pod listens on its own ports (they share the pod's network); k = 0 keeps upstream's. */
export const KUBELET_PORT = 10250;
export const KUBELET_READ_ONLY_PORT = 10255;
export const PORT_STRIDE = 10;

/** One hollow node of a pod: its index, or undefined for the one-per-pod layout. */
type Slot = number | undefined;
const slotName = (base: string, k: Slot) => (k === undefined ? base : `${base}-${k}`);
const nodeNameOf = (k: Slot) => slotName("$(NODE_NAME)", k);

/** The labels a hollow Node registers with: the seed's `hollow-node=true`, the stack's, then the user's. */
export function nodeLabels(o: Pick<HollowPodOptions, "stackLabelValue" | "nodeLabels">): [string, string][] {
    const all: [string, string][] = [[HOLLOW_LABEL_KEY, "true"], [STACK_LABEL_KEY, o.stackLabelValue], ...o.nodeLabels.map(([k, v]) => [k, v] as [string, string])];
    return all.sort(([a], [b]) => a.localeCompare(b));
}

/** The label selector of exactly this stack's hollow Nodes. */
export function stackNodeSelector(stackLabelValue: string): string {
    return `${STACK_LABEL_KEY}=${stackLabelValue}`;
}

/** Every hollow pod of the stack, of its main workload and of the one holding the last pod. */
export function stackPodSelector(stackLabelValue: string): string {
    return `app.kubernetes.io/name=hollow-node,${STACK_LABEL_KEY}=${stackLabelValue}`;
}

export function podLabels(o: Pick<HollowPodOptions, "workloadName" | "stackLabelValue">): Record<string, string> {
    return {
        "app.kubernetes.io/name": "hollow-node",
        [INSTANCE_LABEL_KEY]: o.workloadName,
        [STACK_LABEL_KEY]: o.stackLabelValue,
    };
}

/** `--flag=value` pairs in a fixed order; an empty value drops the flag. */
function flags(pairs: readonly (readonly [string, string])[]): string[] {
    return pairs.filter(([, v]) => v !== "").map(([k, v]) => `--${k}=${v}`);
}

const joinPairs = (pairs: readonly (readonly [string, string])[]) => pairs.map(([k, v]) => `${k}=${v}`).join(",");

export function kubeletFlags(o: HollowPodOptions, k?: Slot): string[] {
    const taints = o.nodeTaints.map((t) => `${t.key}${t.value ? `=${t.value}` : ""}:${t.effect}`).sort().join(",");
    return flags([
        ["morph", "kubelet"],
        ["name", nodeNameOf(k)],
        ["kubelet-port", k === undefined ? "" : String(KUBELET_PORT + PORT_STRIDE * k)],
        ["kubelet-read-only-port", k === undefined ? "" : String(KUBELET_READ_ONLY_PORT + PORT_STRIDE * k)],
        ["kubeconfig", `${CREDENTIALS_MOUNT}/${KUBELET_KUBECONFIG_KEY}`],
        ["node-labels", joinPairs(nodeLabels(o))],
        ["register-with-taints", taints],
        ["max-pods", String(o.maxPods)],
        ["extended-resources", joinPairs([...o.extendedResources].sort(([a], [b]) => a.localeCompare(b)))],
        // The capacity patch's flag (fleetFlags.ts); `flags` adds the dashes.
        [NODE_CAPACITY_FLAG.replace(/^--/, ""), capacityFlagValue(o.capacity ?? {})],
        [POD_CIDR_LOOKUP_FLAG.replace(/^--/, ""), (o.podCidrRange ?? "") === "" ? "" : "always"],
        ["use-host-image-service", String(o.imageService === "host")],
        ["v", String(o.logVerbosity)],
    ]);
}

export function proxyFlags(o: HollowPodOptions, k?: Slot): string[] {
    return flags([
        ["morph", "proxy"],
        ["name", nodeNameOf(k)],
        ["kubeconfig", `${CREDENTIALS_MOUNT}/${PROXY_KUBECONFIG_KEY}`],
        ["v", String(o.logVerbosity)],
    ]);
}

/**
 * Go runtime settings of every hollow process. Go sizes its scheduler to all of the node's cores; an idle hollow
 * node needs one, and runs on a fifth to a quarter less CPU with it (bench/README.md, Density).
 */
export const GO_RUNTIME_ENV: readonly { readonly name: string; readonly value: string }[] = [
    { name: "GOMAXPROCS", value: "1" },
];
const nodeNameEnv = [{ name: "NODE_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }, ...GO_RUNTIME_ENV];
const requests = (r: ContainerResources) => ({ requests: { cpu: r.cpu, memory: r.memory } });

/** Open JSON in the Kubernetes API's shape: callers read and amend nested fields the way kubectl edit would. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a manifest has no one static type
export type Manifest = Record<string, any>;

const credentialFile = (file: string, key: { subPath: string } | { subPathExpr: string }) =>
    ({ name: "credentials", mountPath: `${CREDENTIALS_MOUNT}/${file}`, readOnly: true, ...key });

/**
 * Each container mounts single files of the credentials volume, so it sees only its own: the kubelet its
 * kubeconfig and, by subPathExpr on its pod name, its own certificate and key; the proxy only its token.
 */
export function credentialMounts(o: Pick<HollowPodOptions, "perNodeCertificates">, k?: Slot): { kubelet: Manifest[]; proxy: Manifest[] } {
    const kubelet = [credentialFile(KUBELET_KUBECONFIG_KEY, { subPath: KUBELET_KUBECONFIG_KEY })];
    if (o.perNodeCertificates) {
        kubelet.push(credentialFile(KUBELET_CERT_FILE, { subPathExpr: certKey(nodeNameOf(k)) }),
            credentialFile(KUBELET_KEY_FILE, { subPathExpr: keyKey(nodeNameOf(k)) }));
    }
    return { kubelet, proxy: [credentialFile(PROXY_KUBECONFIG_KEY, { subPath: PROXY_KUBECONFIG_KEY })] };
}

/** The containers of one hollow node: its kubelet and, when on, its proxy. */
function hollowContainers(o: HollowPodOptions, k: Slot): Manifest[] {
    const credentials = credentialMounts(o, k);
    // The hollow kubelet's fake CRI listens on a socket under /tmp, which a scratch-based image lacks;
    // several kubelets of one pod each get their own directory of it.
    const tmp = k === undefined ? { name: "tmp", mountPath: "/tmp" } : { name: "tmp", mountPath: "/tmp", subPath: slotName("node", k) };
    const mounts = [...credentials.kubelet, tmp];
    const ports = k === undefined
        ? [{ containerPort: KUBELET_PORT, name: "kubelet" }, { containerPort: KUBELET_READ_ONLY_PORT, name: "kubelet-ro" }]
        : [{ containerPort: KUBELET_PORT + PORT_STRIDE * k, name: `kubelet-${k}` }, { containerPort: KUBELET_READ_ONLY_PORT + PORT_STRIDE * k, name: `kubelet-ro-${k}` }];
    const containers: Manifest[] = [{
        name: slotName("hollow-kubelet", k),
        image: o.image,
        command: ["/kubemark"],
        args: kubeletFlags(o, k),
        env: nodeNameEnv,
        ports,
        volumeMounts: o.imageService === "host" ? [...mounts, { name: "cri-socket", mountPath: o.imageEndpoint }] : mounts,
        resources: requests(o.kubeletResources),
        ...(o.privileged ? { securityContext: { privileged: true } } : {}),
    }];
    if (o.hollowProxy) {
        containers.push({
            name: slotName("hollow-proxy", k),
            image: o.image,
            command: ["/kubemark"],
            args: proxyFlags(o, k),
            env: nodeNameEnv,
            volumeMounts: [...credentials.proxy, tmp],
            resources: requests(o.proxyResources),
        });
    }
    return containers;
}

export function podSpec(o: HollowPodOptions): Manifest {
    const hostImageService = o.imageService === "host";
    const slots: Slot[] = o.nodesInPod === undefined ? [undefined] : Array.from({ length: o.nodesInPod }, (_, k) => k);
    const containers = slots.flatMap((k) => hollowContainers(o, k));
    const volumes: Manifest[] = [
        // Owner-only files: kubemark runs as root, nothing else in the pod needs to read them.
        { name: "credentials", projected: { defaultMode: 0o400, sources: o.credentialSecrets.map((name) => ({ secret: { name } })) } },
        { name: "tmp", emptyDir: {} },
    ];
    if (hostImageService) {
        volumes.push({ name: "cri-socket", hostPath: { path: o.criSocket, type: "Socket" } });
    }
    return {
        // The hollow kubelet must talk to the target only, never to the node cluster it runs in.
        automountServiceAccountToken: false,
        terminationGracePeriodSeconds: TERMINATION_GRACE_SECONDS,
        // Writing a node-wide sysctl needs privilege; without it the node's own limit must already be high enough.
        ...(o.privileged ? {
            initContainers: [{
                name: "init-inotify-limit",
                image: o.initImage,
                // Only ever raise it: the limit is node-wide, and the node may already allow more than we need.
                command: ["sh", "-c", "read current < /proc/sys/fs/inotify/max_user_instances; " +
                    `[ "$current" -ge ${INOTIFY_MAX_USER_INSTANCES} ] || sysctl -w fs.inotify.max_user_instances=${INOTIFY_MAX_USER_INSTANCES}`],
                securityContext: { privileged: true },
            }],
        } : {}),
        containers,
        volumes,
        tolerations: [{
            key: "node.kubernetes.io/unreachable",
            operator: "Exists",
            effect: "NoExecute",
            tolerationSeconds: UNREACHABLE_TOLERATION_SECONDS,
        }],
        topologySpreadConstraints: [{
            maxSkew: 1,
            topologyKey: "kubernetes.io/hostname",
            whenUnsatisfiable: "ScheduleAnyway",
            labelSelector: { matchLabels: podLabels(o) },
        }],
    };
}

export interface WorkloadOptions extends HollowPodOptions {
    readonly kind: WorkloadKind;
    readonly namespace: string;
    readonly replicas: number;
}

/** The workload manifest: apiVersion, kind, metadata and spec. */
export function workloadManifest(o: WorkloadOptions): Manifest {
    const labels = podLabels(o);
    const metadata = {
        name: o.workloadName,
        namespace: o.namespace,
        labels,
        // Readiness is judged on the target's Nodes by HollowNodeSync, not on pods by the provider.
        annotations: { "pulumi.com/skipAwait": "true" },
    };
    // Only the template carries the pool: a workload's selector cannot change, and needs no pool to be unique.
    const templateLabels = o.poolName === undefined ? labels : { ...labels, [POOL_LABEL_KEY]: o.poolName };
    const template = {
        metadata: o.nodesInPod === undefined ? { labels: templateLabels }
            : { labels: templateLabels, annotations: { [POD_NODES_ANNOTATION]: String(o.nodesInPod) } },
        spec: podSpec(o),
    };
    switch (o.kind) {
        case "StatefulSet":
            // Stable pod names are stable Node names: a restarted pod re-registers the same Node.
            return {
                apiVersion: "apps/v1", kind: "StatefulSet", metadata,
                spec: { replicas: o.replicas, serviceName: o.workloadName, podManagementPolicy: "Parallel", selector: { matchLabels: labels }, template },
            };
        case "Deployment":
            return {
                apiVersion: "apps/v1", kind: "Deployment", metadata,
                spec: { replicas: o.replicas, selector: { matchLabels: labels }, template },
            };
        case "ReplicationController":
            return {
                apiVersion: "v1", kind: "ReplicationController", metadata,
                spec: { replicas: o.replicas, selector: labels, template },
            };
    }
}
