// The one reader of pulumi.Config: validates every kubemark:* key and returns frozen, fully defaulted settings.
import * as pulumi from "@pulumi/pulumi";
import * as os from "os";
import * as path from "path";
import * as fs from "fs";
import { Clusters, isLoopbackServer, ReadFile, resolveClusters } from "./kubeconfig";
import {
    bool, checkKeys, ConfigError, int, list, oneOf, quantity, RawConfig, Reading, readTable, startReading, text,
} from "./readers";
import {
    CRI_SOCKETS, DEFAULT_BASE_IMAGE, DEFAULT_CONTAINER_RUNTIME, DEFAULT_CREATE_NAMESPACE, DEFAULT_CREDENTIAL_LIFETIME_HOURS,
    DEFAULT_GIT_REPOSITORY, DEFAULT_HOLLOW_PROXY, DEFAULT_IMAGE_NAME, DEFAULT_IMAGE_SERVICE, DEFAULT_IMAGE_SOURCE,
    DEFAULT_INIT_IMAGE, DEFAULT_KUBELET_CPU, DEFAULT_KUBELET_MEMORY, DEFAULT_LOG_VERBOSITY, DEFAULT_MAX_PODS,
    DEFAULT_NODE_TAINTS, DEFAULT_NODES_PER_POD, DEFAULT_PATCH_CRIO, DEFAULT_PATCH_PROXY_HEALTH, DEFAULT_PRIVILEGED,
    DEFAULT_READY_TIMEOUT_SECONDS, DEFAULT_REAPER_TIMEOUT_SECONDS, DEFAULT_REPLICAS, DEFAULT_WORKLOAD_KIND,
    defaultPool, defaultProxyResources, DEFAULT_POD_CIDR_MASK, KUBEMARK_IMAGE_ENDPOINT,
} from "./defaults";
import {
    boundedName, ClusterRef, CONTAINER_RUNTIMES, ContainerRuntime, IMAGE_SERVICES, IMAGE_SOURCES,
    ImageSource, KubernetesVersion, MAX_LABEL_LENGTH, MAX_NODES_PER_POD, MAX_REPLICAS, MAX_WORKLOAD_NAME, MIN_MINOR,
    PATCH_CRIO_CHOICES, PoolFallback, Settings, stackLabelValue, stackSlug, Taint, TargetRef, WORKLOAD_KINDS,
} from "./settings";
import { configSecretCheck } from "../kube/dynamic";
import { lookupRelease, ReleaseLookup } from "../image/release";
import { untestedWarning } from "./releases";
import { DEFAULT_PATCH_FLEET } from "../image/patches";
import { MAX_POD_CIDR_MASK, MIN_POD_CIDR_MASK, parseCidr } from "./validate";
import { DNS1123_LABEL } from "./validate";
import { extendedResourceItem, labelItem, readItems, readPairs, sortTaints, taintItem } from "./items";
import { POOL_SET_LABELS, prebuiltFleetWarning, readPools } from "./pools";

function defaultKubeconfigPath(env: RawConfig["env"]): string {
    const fromEnv = (env.KUBECONFIG ?? "").split(path.delimiter).find((p) => p.length > 0);
    return fromEnv ?? path.join(env.HOME ?? os.homedir(), ".kube", "config");
}

function expandHome(p: string, env: RawConfig["env"]): string {
    return p === "~" || p.startsWith("~/") ? path.join(env.HOME ?? os.homedir(), p.slice(1)) : p;
}

const IMAGE_REFERENCE = /^[a-z0-9]+([._-][a-z0-9]+)*(:\d+)?(\/[a-z0-9]+([._-]|__|[-]*)?[a-z0-9]*)*([._/-][a-z0-9]+)*(:[\w][\w.-]{0,127})?(@sha256:[a-f0-9]{64})?$/;

/**
 * Every key, read in this order: an entry may use the values above it, and problems are listed in this order.
 * A simple key is one row (type, default, check); keys that depend on others have a named reader below.
 */
const READERS = {
    kubernetesVersion: readKubernetesVersion,
    replicas: int(DEFAULT_REPLICAS, 0, MAX_REPLICAS),
    nodesPerPod: int(DEFAULT_NODES_PER_POD, 1, MAX_NODES_PER_POD),
    clusters: readClusterRefs,
    namespace: text((_, raw) => `kubemark-${stackSlug(raw.stack)}`, (v) => v.length <= 63 && DNS1123_LABEL.test(v),
        "must be a DNS-1123 label: at most 63 lowercase letters, digits and '-'"),
    createNamespace: bool(DEFAULT_CREATE_NAMESPACE),
    image: readImage,
    imageSource: oneOf(IMAGE_SOURCES, DEFAULT_IMAGE_SOURCE),
    gitRepository: text(DEFAULT_GIT_REPOSITORY, (v) => /^(https?:\/\/|ssh:\/\/|git:\/\/|file:\/\/|[\w.-]+@[\w.-]+:|\/)\S+$/.test(v),
        "must be a git URL (https://, ssh://, git://, file://, user@host:path) or an absolute path"),
    sourceCache: text(undefined, (v, raw) => path.isAbsolute(expandHome(v, raw.env)), "must be an absolute path (or start with ~/)"),
    baseImage: text(DEFAULT_BASE_IMAGE, (v) => v === "scratch" || IMAGE_REFERENCE.test(v), "must be an image reference (or scratch)"),
    registryCredentials: readRegistryCredentials,
    initImage: text(DEFAULT_INIT_IMAGE, (v) => IMAGE_REFERENCE.test(v),
        "must be an image reference that has busybox's sysctl, such as busybox:1.36"),
    containerRuntime: oneOf(CONTAINER_RUNTIMES, DEFAULT_CONTAINER_RUNTIME),
    imageService: oneOf(IMAGE_SERVICES, DEFAULT_IMAGE_SERVICE),
    criSocket: text((got: { containerRuntime: ContainerRuntime }) => CRI_SOCKETS[got.containerRuntime], (v) => path.isAbsolute(v),
        "must be an absolute host path such as /run/crio/crio.sock"),
    hollowProxy: bool(DEFAULT_HOLLOW_PROXY),
    privileged: bool(DEFAULT_PRIVILEGED),
    patchCrio: oneOf(PATCH_CRIO_CHOICES, DEFAULT_PATCH_CRIO),
    patchProxyHealth: bool(DEFAULT_PATCH_PROXY_HEALTH),
    patchFleet: bool(DEFAULT_PATCH_FLEET),
    nodeLabels: readNodeLabels,
    nodeTaints: readNodeTaints,
    maxPods: int(DEFAULT_MAX_PODS, 1, 100000),
    extendedResources: readExtendedResources,
    kubeletCpu: quantity(DEFAULT_KUBELET_CPU),
    kubeletMemory: quantity(DEFAULT_KUBELET_MEMORY),
    proxyCpu: quantity((got: { replicas: number }) => defaultProxyResources(got.replicas).cpu),
    proxyMemory: quantity((got: { replicas: number }) => defaultProxyResources(got.replicas).memory),
    workloadKind: oneOf(WORKLOAD_KINDS, DEFAULT_WORKLOAD_KIND),
    readyTimeoutSeconds: int(DEFAULT_READY_TIMEOUT_SECONDS, 0, 86400),
    reaperTimeoutSeconds: int(DEFAULT_REAPER_TIMEOUT_SECONDS, 5, 3600),
    logVerbosity: int(DEFAULT_LOG_VERBOSITY, 0, 10),
    credentialLifetimeHours: int(DEFAULT_CREDENTIAL_LIFETIME_HOURS, 1, 8760),
    podCidrRange: text("", (v) => parseCidr(v) !== undefined, "must be an IPv4 CIDR such as 10.64.0.0/12"),
    podCidrMaskSize: int(DEFAULT_POD_CIDR_MASK, MIN_POD_CIDR_MASK, MAX_POD_CIDR_MASK),
    podCidrFits: (cx: Reading, got: { podCidrRange: string; podCidrMaskSize: number }) => {
        const range = parseCidr(got.podCidrRange);
        if (got.podCidrRange !== "" && range !== undefined && 32 - Math.log2(range.size) > got.podCidrMaskSize) {
            cx.problems.push(`${cx.full("podCidrRange")} = ${got.podCidrRange}: is smaller than one Node's block ` +
                `(${cx.full("podCidrMaskSize")} ${got.podCidrMaskSize}): give a wider range or a larger mask size`);
        }
    },
    pools: (cx: Reading, got: PoolFallback & { readonly replicas: number }) => readPools(cx, {
        ...got, proxyCpu: cx.str("proxyCpu") === undefined ? undefined : got.proxyCpu,
        proxyMemory: cx.str("proxyMemory") === undefined ? undefined : got.proxyMemory,
    }, workloadNameOf(cx.raw.stack)),
};

/** The stack's (default pool's) workload; every pool's workload and Node names start with it. */
const workloadNameOf = (stack: string) => boundedName(`hollow-node-${stackSlug(stack)}`, MAX_WORKLOAD_NAME);

/** Reads and validates raw config, without reading kubeconfig files; throws ConfigError listing every problem. */
export function parseSettings(raw: RawConfig): Settings {
    return read(raw).settings;
}

/**
 * Reads and validates raw config and both clusters' kubeconfigs (files through `readFile`); throws ConfigError
 * listing every problem of either, so one preview shows them all. With `lookup`, a stack that builds its image
 * also has its release looked up where the build will fetch it, so a release the source lacks stops here.
 */
export function parseConfig(raw: RawConfig, readFile: ReadFile, lookup?: ReleaseLookup): { settings: Settings; clusters: Clusters } {
    const { settings, clusters } = read(raw, readFile, lookup);
    return { settings, clusters: clusters as Clusters };
}

function read(raw: RawConfig, readFile?: ReadFile, lookup?: ReleaseLookup): { settings: Settings; clusters?: Clusters } {
    const cx = startReading(raw);
    checkKeys(cx);
    const v = readTable(cx, READERS);
    // Only once the release and the source are known good: a typo elsewhere needs no network round trip.
    // An image built without the fleet patches: its hollow kubelets would exit on the flag a capacity or
    // podCidrRange adds.
    if (v.image.kind === "registry" && !v.patchFleet) {
        for (const p of (v.pools ?? []).filter((x) => Object.keys(x.capacity).length > 0)) {
            cx.problems.push(`${cx.full("pools")}: pool ${p.name} sets a capacity, which the image needs the fleet patches for, ` +
                `but ${cx.full("patchFleet")} is false: set it true (the default) or leave capacity out`);
        }
        if (v.podCidrRange !== "") {
            cx.problems.push(`${cx.full("podCidrRange")} = ${v.podCidrRange}: gives pods addresses through the fleet patches, ` +
                `but ${cx.full("patchFleet")} is false: set it true (the default) or leave podCidrRange out`);
        }
    }
    if (lookup !== undefined && cx.problems.length === 0 && v.image.kind === "registry") {
        const missing = lookup({ version: v.kubernetesVersion.text, source: v.imageSource, gitRepository: v.gitRepository });
        if (missing !== undefined) {
            cx.problems.push(`${cx.full("kubernetesVersion")} = ${v.kubernetesVersion.text}: ${missing}`);
        }
    }
    let clusters: Clusters | undefined;
    if (readFile !== undefined) {
        try {
            clusters = resolveClusters(v.clusters, readFile);
        } catch (e) {
            if (!(e instanceof ConfigError)) {
                throw e;
            }
            cx.problems.push(...e.problems);
        }
    }
    if (cx.problems.length > 0) {
        throw new ConfigError(cx.problems);
    }
    const slug = stackSlug(raw.stack);
    // Each patch defaults to on where it applies: cri-o's endpoint on cri-o, the guard wherever a proxy runs.
    // For a prebuilt image the key says whether it carries the cri-o patch; nothing to assume there.
    const patchCrio = v.patchCrio === "auto" ? v.containerRuntime === "cri-o" && v.image.kind === "registry" : v.patchCrio === "true";
    const settings: Settings = deepFreeze({
        project: raw.project,
        stack: raw.stack,
        stackSlug: slug,
        stackLabelValue: stackLabelValue(raw.project, raw.stack),
        kubernetesVersion: v.kubernetesVersion,
        // With pools, the stack's hollow Nodes in all; the flat keys are what each pool falls back to.
        replicas: v.pools === undefined ? v.replicas : v.pools.reduce((n, p) => n + p.replicas, 0),
        nodesPerPod: v.nodesPerPod,
        nodeCluster: v.clusters.nodeCluster,
        targetCluster: v.clusters.targetCluster,
        namespace: v.namespace,
        createNamespace: v.createNamespace,
        workloadName: workloadNameOf(raw.stack),
        identityNamespace: boundedName(`${v.namespace}-identity`, MAX_LABEL_LENGTH),
        image: v.image,
        imageBuild: {
            source: v.imageSource,
            gitRepository: v.gitRepository,
            cacheDir: v.sourceCache === undefined ? undefined : expandHome(v.sourceCache, raw.env),
            patchCrio,
            patchProxyHealth: v.patchProxyHealth,
            patchFleet: v.patchFleet,
            baseImage: v.baseImage,
            registryUsername: v.registryCredentials.registryUsername,
            registryPassword: v.registryCredentials.registryPassword,
        },
        initImage: v.initImage,
        containerRuntime: v.containerRuntime,
        // An image built with the cri-o patch dials criSocket; any other dials upstream's hard-coded path.
        imageEndpoint: patchCrio ? v.criSocket : KUBEMARK_IMAGE_ENDPOINT,
        imageService: v.imageService,
        criSocket: v.criSocket,
        hollowProxy: v.hollowProxy,
        privileged: v.privileged,
        nodeLabels: v.nodeLabels,
        nodeTaints: v.nodeTaints,
        maxPods: v.maxPods,
        extendedResources: v.extendedResources,
        kubeletResources: { cpu: v.kubeletCpu, memory: v.kubeletMemory },
        proxyResources: { cpu: v.proxyCpu, memory: v.proxyMemory },
        workloadKind: v.workloadKind,
        readyTimeoutSeconds: v.readyTimeoutSeconds,
        reaperTimeoutSeconds: v.reaperTimeoutSeconds,
        logVerbosity: v.logVerbosity,
        credentialLifetimeHours: v.credentialLifetimeHours,
        podCidrRange: v.podCidrRange,
        podCidrMaskSize: v.podCidrMaskSize,
        pools: v.pools ?? [defaultPool({
            ...v, kubeletResources: { cpu: v.kubeletCpu, memory: v.kubeletMemory }, proxyResources: { cpu: v.proxyCpu, memory: v.proxyMemory },
        })],
    });
    return { settings, clusters };
}

function readKubernetesVersion(cx: Reading): KubernetesVersion {
    const versionText = cx.str("kubernetesVersion");
    if (versionText === undefined) {
        cx.problems.push(`${cx.full("kubernetesVersion")} is required: the Kubernetes release to simulate, ` +
            `vMAJOR.MINOR.PATCH, v1.${MIN_MINOR}.0 or newer (e.g. pulumi config set kubernetesVersion v1.31.0)`);
    } else {
        const m = /^v(\d+)\.(\d+)\.(\d+)$/.exec(versionText);
        if (!m || Number(m[1]) !== 1 || Number(m[2]) < MIN_MINOR) {
            cx.bad("kubernetesVersion", versionText, `must be vMAJOR.MINOR.PATCH, v1.${MIN_MINOR}.0 or newer (e.g. v1.31.0)`);
        } else {
            return { text: versionText, major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) };
        }
    }
    return { text: "v0.0.0", major: 0, minor: 0, patch: 0 };
}

/** The target is the node cluster unless a target key is set; its kubeconfig is a file or secret contents. */
function readClusterRefs(cx: Reading): { nodeCluster: ClusterRef; targetCluster: TargetRef } {
    const { env } = cx.raw;
    const nodeKubeconfig = cx.str("nodeKubeconfig");
    const nodeCluster: ClusterRef = {
        kubeconfigPath: expandHome(nodeKubeconfig ?? defaultKubeconfigPath(env), env),
        kubeconfigKey: nodeKubeconfig === undefined ? "KUBECONFIG / ~/.kube/config" : cx.full("nodeKubeconfig"),
        context: cx.str("nodeContext"),
        contextKey: cx.full("nodeContext"),
    };
    const targetPath = cx.str("targetKubeconfig");
    const targetContent = cx.str("targetKubeconfigContent");
    const targetContext = cx.str("targetContext");
    if (targetPath !== undefined && targetContent !== undefined) {
        cx.problems.push(`${cx.full("targetKubeconfig")} and ${cx.full("targetKubeconfigContent")} are both set: ` +
            "give the target cluster's kubeconfig either as a file or as secret contents, not both");
    }
    const sameAsNode = targetPath === undefined && targetContent === undefined && targetContext === undefined;
    const targetCluster: TargetRef = sameAsNode
        ? { ...nodeCluster, sameAsNodeCluster: true }
        : {
            sameAsNodeCluster: false,
            kubeconfigPath: targetContent !== undefined ? undefined
                : targetPath !== undefined ? expandHome(targetPath, env) : nodeCluster.kubeconfigPath,
            kubeconfigKey: targetContent !== undefined ? cx.full("targetKubeconfigContent")
                : targetPath !== undefined ? cx.full("targetKubeconfig") : nodeCluster.kubeconfigKey,
            kubeconfigContent: targetContent,
            context: targetContext,
            contextKey: cx.full("targetContext"),
        };
    return { nodeCluster, targetCluster };
}

/** A prebuilt image, or the registry (and name) of the image this stack builds: exactly one. */
function readImage(cx: Reading): ImageSource {
    const prebuilt = cx.str("image");
    const registry = cx.str("imageRegistry");
    const imageName = cx.str("imageName") ?? DEFAULT_IMAGE_NAME;
    if (prebuilt !== undefined && registry !== undefined) {
        cx.problems.push(`${cx.full("image")} and ${cx.full("imageRegistry")} are both set: ` +
            "use image for a prebuilt kubemark image, or imageRegistry (with imageName) for the one this stack builds");
    } else if (prebuilt !== undefined) {
        if (!IMAGE_REFERENCE.test(prebuilt)) {
            cx.bad("image", prebuilt, "must be an image reference such as registry.example.com/kubemark:v1.31.0");
        }
        return { kind: "prebuilt", reference: prebuilt };
    } else if (registry !== undefined) {
        if (!/^[a-z0-9]+([._-][a-z0-9]+)*(:\d+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/.test(registry)) {
            cx.bad("imageRegistry", registry, "must be a registry host[:port][/path] such as 127.0.0.1:5000 or docker.io/myorg");
        }
        if (!/^[a-z0-9]+([._-][a-z0-9]+)*$/.test(imageName)) {
            cx.bad("imageName", imageName, "must be a lowercase repository name such as kubemark");
        }
        return { kind: "registry", registry, name: imageName };
    } else {
        cx.problems.push(`${cx.full("image")} or ${cx.full("imageRegistry")} is required: a prebuilt kubemark image ` +
            "reference, or the registry this stack's kubemark image is pushed to (e.g. 127.0.0.1:5000)");
    }
    return { kind: "prebuilt", reference: "" };
}

function readRegistryCredentials(cx: Reading): { registryUsername?: string; registryPassword?: string } {
    const registryUsername = cx.str("registryUsername");
    const registryPassword = cx.str("registryPassword");
    if ((registryUsername === undefined) !== (registryPassword === undefined)) {
        cx.problems.push(`${cx.full("registryUsername")} and ${cx.full("registryPassword")} go together: set both or neither`);
    }
    return { registryUsername, registryPassword };
}

function readNodeLabels(cx: Reading): [string, string][] {
    return readPairs(list(cx, "nodeLabels") ?? [], (item, seen) => labelItem(item, seen, POOL_SET_LABELS),
        (item, problem) => cx.bad("nodeLabels", item, problem));
}

function readNodeTaints(cx: Reading): Taint[] {
    return sortTaints(readItems(list(cx, "nodeTaints") ?? DEFAULT_NODE_TAINTS, taintItem, (item, problem) => cx.bad("nodeTaints", item, problem)));
}

function readExtendedResources(cx: Reading): [string, string][] {
    return readPairs(list(cx, "extendedResources") ?? [], extendedResourceItem, (item, problem) => cx.bad("extendedResources", item, problem));
}

function deepFreeze<T>(value: T): T {
    if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
        Object.freeze(value);
        for (const v of Object.values(value as object)) {
            deepFreeze(v);
        }
    }
    return value;
}

/**
 * Reads this stack's config and kubeconfigs: any problem stops the program before a resource is registered, all of
 * them listed in one message.
 */
export function readConfig(): { settings: Settings; clusters: Clusters } {
    const values = pulumi.runtime.allConfig();
    // Without the SDK's check, trust the user rather than block.
    const isSecret = configSecretCheck(pulumi.runtime);
    const secretKeys = new Set(Object.keys(values).filter((k) => isSecret === undefined || isSecret(k)));
    let read: { settings: Settings; clusters: Clusters };
    try {
        read = parseConfig({ values, secretKeys, project: pulumi.getProject(), stack: pulumi.getStack(), env: process.env },
            (file) => fs.readFileSync(file), lookupRelease);
    } catch (e) {
        throw e instanceof ConfigError ? new pulumi.RunError(e.message) : e;
    }
    const fleet = prebuiltFleetWarning(read.settings.image, read.settings.pools, read.settings.podCidrRange);
    if (fleet !== undefined) {
        pulumi.log.warn(fleet);
    }
    const untested = untestedWarning(read.settings.kubernetesVersion);
    if (untested !== undefined) {
        pulumi.log.warn(untested);
    }
    if (isLoopbackServer(read.clusters.target.server)) {
        pulumi.log.warn(`the target cluster's API server is ${read.clusters.target.server}: hollow pods reach it only if ` +
            "they share the host's network. Use a kubeconfig with an address pods can reach (see README, Troubleshooting)");
    }
    return read;
}
