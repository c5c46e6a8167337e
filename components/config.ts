// The one reader of pulumi.Config: validates every kubemark:* key and returns frozen, fully defaulted settings.
import * as pulumi from "@pulumi/pulumi";
import * as os from "os";
import * as path from "path";
import {
    CONFIG_KEYS, CONFIG_NAMESPACE, CONTAINER_RUNTIMES, CRI_SOCKETS, ClusterRef, ConfigKey,
    DEFAULT_BASE_IMAGE, DEFAULT_CONTAINER_RUNTIME, DEFAULT_CREATE_NAMESPACE, DEFAULT_GIT_REPOSITORY,
    DEFAULT_HOLLOW_PROXY, DEFAULT_IMAGE_NAME, DEFAULT_IMAGE_SERVICE, DEFAULT_IMAGE_SOURCE, DEFAULT_INIT_IMAGE,
    DEFAULT_KUBELET_CPU, DEFAULT_KUBELET_MEMORY, DEFAULT_CREDENTIAL_LIFETIME_HOURS, DEFAULT_LOG_VERBOSITY, DEFAULT_MAX_PODS, DEFAULT_NODE_TAINTS,
    DEFAULT_PATCH_PROXY_HEALTH, DEFAULT_PRIVILEGED, DEFAULT_READY_TIMEOUT_SECONDS,
    DEFAULT_REAPER_TIMEOUT_SECONDS, DEFAULT_REPLICAS, DEFAULT_WORKLOAD_KIND, HOLLOW_LABEL_KEY, IMAGE_SERVICES,
    IMAGE_SOURCES, ImageSource, KubernetesVersion, MAX_REPLICAS, MIN_MINOR, PATCH_CRIO_CHOICES, SECRET_KEYS,
    STACK_LABEL_KEY, Settings, TAINT_EFFECTS, Taint, TaintEffect, TargetRef, WORKLOAD_KINDS,
    boundedName, defaultProxyResources, stackLabelValue, stackSlug,
} from "./settings";
import { DNS1123_LABEL, editDistance, isQuantity, labelValueProblem, qualifiedNameProblem } from "./validate";

// Constants and types live in settings.ts; callers keep importing them from here.
export * from "./settings";

/** Raised with every problem found, so one preview shows them all. */
export class ConfigError extends Error {
    constructor(readonly problems: readonly string[]) {
        super(`invalid configuration:\n  - ${problems.join("\n  - ")}`);
        this.name = "ConfigError";
    }
}

export interface RawConfig {
    /** Values as Pulumi hands them over: strings, structured values JSON-encoded. */
    readonly values: Readonly<Record<string, string | undefined>>;
    /** Full keys (`kubemark:x`) stored encrypted. */
    readonly secretKeys: ReadonlySet<string>;
    readonly project: string;
    readonly stack: string;
    /** Environment, for the default kubeconfig (KUBECONFIG, HOME). */
    readonly env: Readonly<Record<string, string | undefined>>;
}

function defaultKubeconfigPath(env: RawConfig["env"]): string {
    const fromEnv = (env.KUBECONFIG ?? "").split(path.delimiter).find((p) => p.length > 0);
    return fromEnv ?? path.join(env.HOME ?? os.homedir(), ".kube", "config");
}

function expandHome(p: string, env: RawConfig["env"]): string {
    return p === "~" || p.startsWith("~/") ? path.join(env.HOME ?? os.homedir(), p.slice(1)) : p;
}

/** Reads and validates raw config; throws ConfigError listing every problem. Pure but for nothing. */
export function parseSettings(raw: RawConfig): Settings {
    const problems: string[] = [];
    const full = (key: ConfigKey) => `${CONFIG_NAMESPACE}:${key}`;
    const bad = (key: ConfigKey, value: string, accepted: string) => {
        const shown = SECRET_KEYS.includes(key) ? "[secret]" : JSON.stringify(value);
        problems.push(`${full(key)} = ${shown}: ${accepted}`);
    };
    // Pulumi.yaml declares optional keys with default "" (a declared key without a default is
    // required by the CLI), so an empty value means "unset: use the default".
    const str = (key: ConfigKey): string | undefined => {
        const v = raw.values[full(key)];
        return v === undefined || v.trim() === "" ? undefined : v;
    };
    const int = (key: ConfigKey, def: number, min: number, max: number): number => {
        const v = str(key);
        if (v === undefined) {
            return def;
        }
        if (!/^\s*[+-]?\d+\s*$/.test(v) || Number(v) < min || Number(v) > max) {
            bad(key, v, `must be a whole number from ${min} to ${max}`);
            return def;
        }
        return Number(v);
    };
    const bool = (key: ConfigKey, def: boolean): boolean => {
        const v = str(key);
        if (v === undefined) {
            return def;
        }
        if (v !== "true" && v !== "false") {
            bad(key, v, "must be true or false");
            return def;
        }
        return v === "true";
    };
    const oneOf = <T extends string>(key: ConfigKey, choices: readonly T[], def: T): T => {
        const v = str(key);
        if (v === undefined) {
            return def;
        }
        if (!(choices as readonly string[]).includes(v)) {
            bad(key, v, `must be one of ${choices.join(", ")}`);
            return def;
        }
        return v as T;
    };
    const list = (key: ConfigKey): string[] | undefined => {
        const v = str(key);
        if (v === undefined) {
            return undefined;
        }
        let parsed: unknown;
        try {
            parsed = JSON.parse(v);
        } catch {
            parsed = undefined;
        }
        if (!Array.isArray(parsed) || parsed.some((e) => typeof e !== "string")) {
            bad(key, v, `must be a list of strings, e.g. pulumi config set --path '${key}[0]' <item>`);
            return undefined;
        }
        return parsed as string[];
    };
    const quantity = (key: ConfigKey, def: string): string => {
        const v = str(key);
        if (v === undefined) {
            return def;
        }
        if (!isQuantity(v)) {
            bad(key, v, "must be a Kubernetes quantity such as 40m, 0.5, 100Mi or 1Gi");
            return def;
        }
        return v;
    };

    // Unknown keys: a typo would otherwise silently fall back to a default.
    const known = new Set<string>(CONFIG_KEYS);
    for (const fullKey of Object.keys(raw.values)) {
        if (!fullKey.startsWith(`${CONFIG_NAMESPACE}:`)) {
            continue;
        }
        const key = fullKey.slice(CONFIG_NAMESPACE.length + 1);
        if (!known.has(key)) {
            const near = CONFIG_KEYS.map((k) => [k, editDistance(k.toLowerCase(), key.toLowerCase())] as const)
                .sort((a, b) => a[1] - b[1])[0];
            const hint = near[1] <= 3 ? `; did you mean ${CONFIG_NAMESPACE}:${near[0]}?` : "";
            problems.push(`${fullKey}: unknown key${hint} Known keys: ${CONFIG_KEYS.join(", ")}`);
        }
    }
    for (const key of SECRET_KEYS) {
        if (str(key) !== undefined && !raw.secretKeys.has(full(key))) {
            problems.push(`${full(key)}: holds credentials and must be stored encrypted: ` +
                `pulumi config set --secret ${key} < FILE`);
        }
    }

    let kubernetesVersion: KubernetesVersion = { text: "v0.0.0", major: 0, minor: 0, patch: 0 };
    const versionText = str("kubernetesVersion");
    if (versionText === undefined) {
        problems.push(`${full("kubernetesVersion")} is required: the Kubernetes release to simulate, ` +
            `vMAJOR.MINOR.PATCH, v1.${MIN_MINOR}.0 or newer (e.g. pulumi config set kubernetesVersion v1.31.0)`);
    } else {
        const m = /^v(\d+)\.(\d+)\.(\d+)$/.exec(versionText);
        if (!m || Number(m[1]) !== 1 || Number(m[2]) < MIN_MINOR) {
            bad("kubernetesVersion", versionText, `must be vMAJOR.MINOR.PATCH, v1.${MIN_MINOR}.0 or newer (e.g. v1.31.0)`);
        } else {
            kubernetesVersion = { text: versionText, major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) };
        }
    }

    const replicas = int("replicas", DEFAULT_REPLICAS, 0, MAX_REPLICAS);
    const slug = stackSlug(raw.stack);

    const nodeKubeconfig = str("nodeKubeconfig");
    const nodeCluster: ClusterRef = {
        kubeconfigPath: expandHome(nodeKubeconfig ?? defaultKubeconfigPath(raw.env), raw.env),
        kubeconfigKey: nodeKubeconfig === undefined ? "KUBECONFIG / ~/.kube/config" : full("nodeKubeconfig"),
        context: str("nodeContext"),
        contextKey: full("nodeContext"),
    };
    const targetPath = str("targetKubeconfig");
    const targetContent = str("targetKubeconfigContent");
    const targetContext = str("targetContext");
    if (targetPath !== undefined && targetContent !== undefined) {
        problems.push(`${full("targetKubeconfig")} and ${full("targetKubeconfigContent")} are both set: ` +
            "give the target cluster's kubeconfig either as a file or as secret contents, not both");
    }
    const sameAsNode = targetPath === undefined && targetContent === undefined && targetContext === undefined;
    const targetCluster: TargetRef = sameAsNode
        ? { ...nodeCluster, sameAsNodeCluster: true }
        : {
            sameAsNodeCluster: false,
            kubeconfigPath: targetContent !== undefined ? undefined
                : targetPath !== undefined ? expandHome(targetPath, raw.env) : nodeCluster.kubeconfigPath,
            kubeconfigKey: targetContent !== undefined ? full("targetKubeconfigContent")
                : targetPath !== undefined ? full("targetKubeconfig") : nodeCluster.kubeconfigKey,
            kubeconfigContent: targetContent,
            context: targetContext,
            contextKey: full("targetContext"),
        };

    const namespace = str("namespace") ?? `kubemark-${slug}`;
    if (namespace.length > 63 || !DNS1123_LABEL.test(namespace)) {
        bad("namespace", namespace, "must be a DNS-1123 label: at most 63 lowercase letters, digits and '-'");
    }

    const createNamespace = bool("createNamespace", DEFAULT_CREATE_NAMESPACE);

    const prebuilt = str("image");
    const registry = str("imageRegistry");
    const imageName = str("imageName") ?? DEFAULT_IMAGE_NAME;
    let image: ImageSource = { kind: "prebuilt", reference: "" };
    const REFERENCE = /^[a-z0-9]+([._-][a-z0-9]+)*(:\d+)?(\/[a-z0-9]+([._-]|__|[-]*)?[a-z0-9]*)*([._/-][a-z0-9]+)*(:[\w][\w.-]{0,127})?(@sha256:[a-f0-9]{64})?$/;
    if (prebuilt !== undefined && registry !== undefined) {
        problems.push(`${full("image")} and ${full("imageRegistry")} are both set: ` +
            "use image for a prebuilt kubemark image, or imageRegistry (with imageName) for the one this stack builds");
    } else if (prebuilt !== undefined) {
        if (!REFERENCE.test(prebuilt)) {
            bad("image", prebuilt, "must be an image reference such as registry.example.com/kubemark:v1.31.0");
        }
        image = { kind: "prebuilt", reference: prebuilt };
    } else if (registry !== undefined) {
        if (!/^[a-z0-9]+([._-][a-z0-9]+)*(:\d+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/.test(registry)) {
            bad("imageRegistry", registry, "must be a registry host[:port][/path] such as 127.0.0.1:5000 or docker.io/myorg");
        }
        if (!/^[a-z0-9]+([._-][a-z0-9]+)*$/.test(imageName)) {
            bad("imageName", imageName, "must be a lowercase repository name such as kubemark");
        }
        image = { kind: "registry", registry, name: imageName };
    } else {
        problems.push(`${full("image")} or ${full("imageRegistry")} is required: a prebuilt kubemark image ` +
            "reference, or the registry this stack's kubemark image is pushed to (e.g. 127.0.0.1:5000)");
    }
    const imageSource = oneOf("imageSource", IMAGE_SOURCES, DEFAULT_IMAGE_SOURCE);
    const gitRepository = str("gitRepository") ?? DEFAULT_GIT_REPOSITORY;
    if (!/^(https?:\/\/|ssh:\/\/|git:\/\/|file:\/\/|[\w.-]+@[\w.-]+:|\/)\S+$/.test(gitRepository)) {
        bad("gitRepository", gitRepository, "must be a git URL (https://, ssh://, git://, file://, user@host:path) or an absolute path");
    }
    const sourceCache = str("sourceCache");
    if (sourceCache !== undefined && !path.isAbsolute(expandHome(sourceCache, raw.env))) {
        bad("sourceCache", sourceCache, "must be an absolute path (or start with ~/)");
    }
    const baseImage = str("baseImage") ?? DEFAULT_BASE_IMAGE;
    if (baseImage !== "scratch" && !REFERENCE.test(baseImage)) {
        bad("baseImage", baseImage, "must be an image reference (or scratch)");
    }
    const registryUsername = str("registryUsername");
    const registryPassword = str("registryPassword");
    if ((registryUsername === undefined) !== (registryPassword === undefined)) {
        problems.push(`${full("registryUsername")} and ${full("registryPassword")} go together: set both or neither`);
    }
    const initImage = str("initImage") ?? DEFAULT_INIT_IMAGE;
    if (!REFERENCE.test(initImage)) {
        bad("initImage", initImage, "must be an image reference that has busybox's sysctl, such as busybox:1.36");
    }

    const containerRuntime = oneOf("containerRuntime", CONTAINER_RUNTIMES, DEFAULT_CONTAINER_RUNTIME);
    const imageService = oneOf("imageService", IMAGE_SERVICES, DEFAULT_IMAGE_SERVICE);
    const criSocket = str("criSocket") ?? CRI_SOCKETS[containerRuntime];
    if (!path.isAbsolute(criSocket)) {
        bad("criSocket", criSocket, "must be an absolute host path such as /run/crio/crio.sock");
    }
    const hollowProxy = bool("hollowProxy", DEFAULT_HOLLOW_PROXY);
    const privileged = bool("privileged", DEFAULT_PRIVILEGED);
    // Each patch defaults to on where it applies: cri-o's endpoint on cri-o, the guard wherever a proxy runs.
    // For a prebuilt image the key says whether it carries the cri-o patch; nothing to assume there.
    const patchCrio = oneOf("patchCrio", PATCH_CRIO_CHOICES, "auto") === "auto"
        ? containerRuntime === "cri-o" && image.kind === "registry"
        : str("patchCrio") === "true";
    const patchProxyHealth = bool("patchProxyHealth", DEFAULT_PATCH_PROXY_HEALTH);

    const labelMap = new Map<string, string>();
    for (const item of list("nodeLabels") ?? []) {
        const eq = item.indexOf("=");
        const key = eq < 0 ? item : item.slice(0, eq);
        const value = eq < 0 ? "" : item.slice(eq + 1);
        const problem = eq < 0 ? "must be key=value" : qualifiedNameProblem(key) ?? labelValueProblem(value)
            ?? (key === STACK_LABEL_KEY || key === HOLLOW_LABEL_KEY
                ? `${key} is set by this program (it selects the Nodes destroy removes)` : undefined)
            ?? (labelMap.has(key) ? `label ${key} is given twice` : undefined);
        if (problem) {
            bad("nodeLabels", item, problem);
        } else {
            labelMap.set(key, value);
        }
    }
    const nodeLabels = [...labelMap.entries()].sort(([a], [b]) => a.localeCompare(b));

    const nodeTaints: Taint[] = [];
    for (const item of list("nodeTaints") ?? DEFAULT_NODE_TAINTS) {
        const m = /^([^=:]+)(=([^:]*))?:([^:]+)$/.exec(item);
        const problem = !m ? "must be key[=value]:Effect"
            : qualifiedNameProblem(m[1]) ?? labelValueProblem(m[3] ?? "")
            ?? (!(TAINT_EFFECTS as readonly string[]).includes(m[4]) ? `effect must be one of ${TAINT_EFFECTS.join(", ")}` : undefined);
        if (problem || !m) {
            bad("nodeTaints", item, problem ?? "must be key[=value]:Effect");
        } else {
            nodeTaints.push({ key: m[1], value: m[3] ?? "", effect: m[4] as TaintEffect });
        }
    }
    nodeTaints.sort((a, b) => `${a.key}:${a.effect}`.localeCompare(`${b.key}:${b.effect}`));

    const maxPods = int("maxPods", DEFAULT_MAX_PODS, 1, 100000);
    const resourceMap = new Map<string, string>();
    for (const item of list("extendedResources") ?? []) {
        const m = /^([^=]+)=(\d+)$/.exec(item);
        const problem = !m ? "must be name=count with a whole count, e.g. example.com/gpu=8"
            : qualifiedNameProblem(m[1]) ?? (!m[1].includes("/") ? "the name needs a domain prefix, e.g. example.com/gpu" : undefined)
            ?? (/(^|\.)kubernetes\.io\//.test(m[1]) && !m[1].startsWith("requests.") ? "kubernetes.io/ resource names are reserved" : undefined)
            ?? (resourceMap.has(m[1]) ? `resource ${m[1]} is given twice` : undefined);
        if (problem || !m) {
            bad("extendedResources", item, problem ?? "must be name=count");
        } else {
            resourceMap.set(m[1], m[2]);
        }
    }
    const extendedResources = [...resourceMap.entries()].sort(([a], [b]) => a.localeCompare(b));

    const kubeletResources = {
        cpu: quantity("kubeletCpu", DEFAULT_KUBELET_CPU),
        memory: quantity("kubeletMemory", DEFAULT_KUBELET_MEMORY),
    };
    const proxyDefaults = defaultProxyResources(replicas);
    const proxyResources = {
        cpu: quantity("proxyCpu", proxyDefaults.cpu),
        memory: quantity("proxyMemory", proxyDefaults.memory),
    };
    const workloadKind = oneOf("workloadKind", WORKLOAD_KINDS, DEFAULT_WORKLOAD_KIND);
    const readyTimeoutSeconds = int("readyTimeoutSeconds", DEFAULT_READY_TIMEOUT_SECONDS, 0, 86400);
    const reaperTimeoutSeconds = int("reaperTimeoutSeconds", DEFAULT_REAPER_TIMEOUT_SECONDS, 5, 3600);
    const logVerbosity = int("logVerbosity", DEFAULT_LOG_VERBOSITY, 0, 10);
    const credentialLifetimeHours = int("credentialLifetimeHours", DEFAULT_CREDENTIAL_LIFETIME_HOURS, 1, 8760);

    if (problems.length > 0) {
        throw new ConfigError(problems);
    }
    return deepFreeze({
        project: raw.project,
        stack: raw.stack,
        stackSlug: slug,
        stackLabelValue: stackLabelValue(raw.project, raw.stack),
        kubernetesVersion,
        replicas,
        nodeCluster,
        targetCluster,
        namespace,
        createNamespace,
        workloadName: boundedName(`hollow-node-${slug}`, 50),
        identityNamespace: boundedName(`${namespace}-identity`, 63),
        image,
        imageBuild: {
            source: imageSource,
            gitRepository,
            cacheDir: sourceCache === undefined ? undefined : expandHome(sourceCache, raw.env),
            patchCrio,
            patchProxyHealth,
            baseImage,
            registryUsername,
            registryPassword,
        },
        initImage,
        containerRuntime,
        imageService,
        criSocket,
        hollowProxy,
        privileged,
        nodeLabels,
        nodeTaints,
        maxPods,
        extendedResources,
        kubeletResources,
        proxyResources,
        workloadKind,
        readyTimeoutSeconds,
        reaperTimeoutSeconds,
        logVerbosity,
        credentialLifetimeHours,
    });
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

/** Reads this stack's config; a bad value stops the program before any resource is registered. */
export function readSettings(): Settings {
    const values = pulumi.runtime.allConfig();
    // isConfigSecret is not in the SDK's typings; without it, trust the user rather than block.
    const isSecret = (pulumi.runtime as unknown as { isConfigSecret?: (k: string) => boolean }).isConfigSecret;
    const secretKeys = new Set(Object.keys(values).filter((k) => isSecret === undefined || isSecret(k)));
    try {
        return parseSettings({ values, secretKeys, project: pulumi.getProject(), stack: pulumi.getStack(), env: process.env });
    } catch (e) {
        throw e instanceof ConfigError ? new pulumi.RunError(e.message) : e;
    }
}
