// Turns a kubeconfig file or secret into one self-contained, single-context kubeconfig.
import * as yaml from "js-yaml";
import * as path from "path";
import type { ClusterRef, Settings, TargetRef } from "./settings";
import { ConfigError } from "./readers";

export interface ResolvedCluster {
    /** Single-context kubeconfig YAML with every file reference inlined. Holds credentials. */
    readonly kubeconfig: string;
    readonly context: string;
    readonly server: string;
}

type Named<T> = { name: string } & Record<string, T>;
interface KubeconfigDoc {
    "current-context"?: string;
    contexts?: Named<{ cluster?: string; user?: string; namespace?: string }>[];
    clusters?: Named<Record<string, unknown>>[];
    users?: Named<Record<string, unknown>>[];
}

/** File-valued kubeconfig fields and the inline `-data` field each becomes. */
const FILE_FIELDS: readonly (readonly [string, string])[] = [
    ["certificate-authority", "certificate-authority-data"],
    ["client-certificate", "client-certificate-data"],
    ["client-key", "client-key-data"],
];

export type ReadFile = (file: string) => Buffer;

/**
 * Resolves `ref` to a self-contained kubeconfig for Pulumi and the dynamic providers, which run on this
 * machine: exec plugins and auth providers are kept as they are. Pods never get it (see TargetCredentials).
 */
export function resolveCluster(ref: ClusterRef | TargetRef, readFile: ReadFile): ResolvedCluster {
    const fail = (msg: string): never => {
        throw new ConfigError([msg]);
    };
    const inline = "kubeconfigContent" in ref && ref.kubeconfigContent !== undefined;
    const where = inline ? `${ref.kubeconfigKey} ([secret])` : `${ref.kubeconfigKey} (${ref.kubeconfigPath})`;
    let text: string;
    if (inline) {
        text = (ref as TargetRef).kubeconfigContent as string;
    } else {
        try {
            text = readFile(ref.kubeconfigPath as string).toString("utf8");
        } catch (e) {
            return fail(`${where}: cannot read the kubeconfig file: ${(e as Error).message}`);
        }
    }
    let doc: KubeconfigDoc;
    try {
        doc = (yaml.load(text) ?? {}) as KubeconfigDoc;
    } catch (e) {
        // The YAML error quotes the offending line, which may hold a credential: keep only its position.
        const mark = (e as { mark?: { line: number } }).mark;
        return fail(`${where}: not valid YAML${mark ? ` (line ${mark.line + 1})` : ""}`);
    }
    if (typeof doc !== "object" || Array.isArray(doc)) {
        return fail(`${where}: not a kubeconfig (expected a mapping with clusters, users and contexts)`);
    }
    const contexts = doc.contexts ?? [];
    const contextName = ref.context ?? doc["current-context"];
    if (contextName === undefined || contextName === "") {
        return fail(`${where}: has no current-context; set ${ref.contextKey} to one of: ${contexts.map((c) => c.name).join(", ") || "(none)"}`);
    }
    const ctx = contexts.find((c) => c.name === contextName);
    if (!ctx) {
        const key = ref.context !== undefined ? `${ref.contextKey} = "${contextName}"` : `current-context "${contextName}"`;
        return fail(`${key}: no such context in ${where}; contexts there: ${contexts.map((c) => c.name).join(", ") || "(none)"}`);
    }
    const clusterName = ctx.context?.cluster;
    const userName = ctx.context?.user;
    const cluster = (doc.clusters ?? []).find((c) => c.name === clusterName);
    if (!cluster || typeof cluster.cluster !== "object" || !(cluster.cluster as Record<string, unknown>).server) {
        return fail(`${where}: context "${contextName}" names cluster "${clusterName}", which is missing or has no server`);
    }
    const user = (doc.users ?? []).find((u) => u.name === userName);
    const base = inline ? process.cwd() : path.dirname(ref.kubeconfigPath as string);
    const inlineFiles = (section: Record<string, unknown>, what: string): Record<string, unknown> => {
        const out: Record<string, unknown> = { ...section };
        for (const [fileKey, dataKey] of FILE_FIELDS) {
            const file = out[fileKey];
            if (typeof file === "string" && out[dataKey] === undefined) {
                const resolved = path.isAbsolute(file) ? file : path.join(base, file);
                try {
                    out[dataKey] = readFile(resolved).toString("base64");
                } catch (e) {
                    fail(`${where}: ${what} ${fileKey} ${resolved} cannot be read: ${(e as Error).message}`);
                }
            }
            delete out[fileKey];
        }
        if (typeof out.tokenFile === "string" && out.token === undefined) {
            const resolved = path.isAbsolute(out.tokenFile) ? out.tokenFile : path.join(base, out.tokenFile);
            try {
                out.token = readFile(resolved).toString("utf8").trim();
            } catch (e) {
                fail(`${where}: ${what} tokenFile ${resolved} cannot be read: ${(e as Error).message}`);
            }
            delete out.tokenFile;
        }
        return out;
    };
    const userSection = inlineFiles((user?.user ?? {}) as Record<string, unknown>, `user "${userName}"`);
    const clusterSection = inlineFiles(cluster.cluster as Record<string, unknown>, `cluster "${clusterName}"`);
    const single = {
        apiVersion: "v1",
        kind: "Config",
        "current-context": contextName,
        clusters: [{ name: clusterName, cluster: clusterSection }],
        users: [{ name: userName ?? "user", user: userSection }],
        contexts: [{ name: contextName, context: { cluster: clusterName, user: userName ?? "user" } }],
    };
    return { kubeconfig: yaml.dump(single, { lineWidth: -1, sortKeys: true }), context: contextName, server: String(clusterSection.server) };
}

/** True when `server` points at this host's loopback, which pods in another network namespace cannot reach. */
export function isLoopbackServer(server: string): boolean {
    try {
        const host = new URL(server).hostname.replace(/^\[|\]$/g, "");
        return host === "localhost" || host === "::1" || /^127\./.test(host);
    } catch {
        return false;
    }
}

export interface Clusters {
    readonly node: ResolvedCluster;
    readonly target: ResolvedCluster;
}

/** Resolves both clusters before any resource exists; one-cluster mode uses the node cluster twice. */
export function resolveClusters(s: Pick<Settings, "nodeCluster" | "targetCluster">, readFile: ReadFile): Clusters {
    const problems: string[] = [];
    const attempt = (ref: ClusterRef | TargetRef): ResolvedCluster | undefined => {
        try {
            return resolveCluster(ref, readFile);
        } catch (e) {
            if (e instanceof ConfigError) {
                problems.push(...e.problems);
                return undefined;
            }
            throw e;
        }
    };
    const node = attempt(s.nodeCluster);
    const target = s.targetCluster.sameAsNodeCluster ? node : attempt(s.targetCluster);
    if (problems.length > 0 || !node || !target) {
        throw new ConfigError(problems);
    }
    return { node, target };
}
