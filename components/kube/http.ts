// Raw JSON requests to one API server over a single keep-alive connection pool, with the kubeconfig's auth.
import type * as k8sClient from "@kubernetes/client-node";
import { cancelledError, isCancelled, isTimedOut, timedOutError, unreachableError } from "./errors";

/**
 * Sockets kept open to one API server. @kubernetes/client-node 1.x builds a new Agent for every request, so each
 * call would pay a TCP and TLS handshake: most of the reaper's cost at thousands of Nodes.
 */
export const MAX_SOCKETS = 32;

export interface HttpReply { readonly status: number; readonly body: string }

/**
 * Rejects when `p` takes longer than `ms` (an unreachable API server must not hang a destroy), and with a
 * CancelledError as soon as `signal` aborts.
 */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string, signal?: AbortSignal): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(timedOutError(what, ms)), ms);
        if (signal) {
            onAbort = () => reject(cancelledError());
            signal.addEventListener("abort", onAbort, { once: true });
        }
    });
    // The losing promise may still reject later; it must not become an unhandled rejection.
    p.catch(() => undefined);
    return Promise.race([p, timeout]).finally(() => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort as () => void);
    });
}

/** One API server, as the providers reach it: its URL for messages, bounded requests, and the library's config. */
export interface KubeConnection {
    readonly server: string;
    /**
     * Resolves with any HTTP answer; no answer within the bound (refused, TLS, timeout) rejects as UnreachableError.
     */
    send(method: string, path: string, accept: string, body?: unknown): Promise<HttpReply>;
    /** The kubeconfig as @kubernetes/client-node reads it, loaded only when asked for. */
    kubeConfig(): k8sClient.KubeConfig;
}

/** A connection whose requests end at `requestTimeoutMs`, and at once when `signal` aborts (the user's Ctrl-C). */
export function connect(kubeconfig: string, requestTimeoutMs: number, signal?: AbortSignal): KubeConnection {
    let kc: k8sClient.KubeConfig | undefined;
    const kubeConfig = () => {
        // require, not import: this runs in the dynamic provider process from serialized code.
        const k8s = require("@kubernetes/client-node") as typeof k8sClient;
        kc ??= new k8s.KubeConfig();
        kc.loadFromString(kubeconfig);
        return kc;
    };
    const inline = inlineCredentials(kubeconfig);
    const request = inline ? inlineRequester(inline) : kubeRequester(kubeConfig());
    const server = inline?.server ?? kubeConfig().getCurrentCluster()?.server ?? "(unknown server)";
    return {
        server, kubeConfig,
        async send(method, path, accept, body) {
            if (signal?.aborted) {
                throw cancelledError();
            }
            try {
                return await withTimeout(request(method, path, accept, body), requestTimeoutMs, `${method} ${path.split("?")[0]}`, signal);
            } catch (e) {
                throw isCancelled(e) ? e : unreachableError(server, (e as Error).message, isTimedOut(e));
            }
        },
    };
}

/** A kubeconfig's current cluster and user when they need nothing but their own inline data. */
export interface InlineCredentials {
    readonly server: string;
    readonly ca?: Buffer;
    readonly cert?: Buffer;
    readonly key?: Buffer;
    readonly insecure: boolean;
    readonly serverName?: string;
    readonly authorization?: string;
}

/** Cluster and user fields inlineRequester handles; any other (exec, auth-provider, files, proxy) needs the library. */
// Arrays, not Sets: the closure serializer turns a captured Set into a plain object.
const INLINE_CLUSTER_FIELDS = ["server", "certificate-authority-data", "insecure-skip-tls-verify", "tls-server-name"];
const INLINE_USER_FIELDS = ["token", "client-certificate-data", "client-key-data", "username", "password"];

/**
 * The kubeconfig's credentials when they are inline data only (a token, a client certificate, a password), else
 * undefined. @kubernetes/client-node takes about a second to load (its whole generated API), in every provider
 * process, so on each preview; the kubeconfigs this program hands its providers are resolved to inline data, so
 * most never need it. Exec plugins, auth providers, proxies and files keep going through the library.
 */
export function inlineCredentials(kubeconfig: string): InlineCredentials | undefined {
    const yaml = require("js-yaml") as typeof import("js-yaml");
    type Named<T> = { name?: string } & T;
    const doc = (yaml.load(kubeconfig) ?? {}) as {
        "current-context"?: string;
        contexts?: Named<{ context?: { cluster?: string; user?: string } }>[];
        clusters?: Named<{ cluster?: Record<string, unknown> }>[];
        users?: Named<{ user?: Record<string, unknown> }>[];
    };
    const context = (doc.contexts ?? []).find((c) => c.name === doc["current-context"])?.context;
    const cluster = (doc.clusters ?? []).find((c) => c.name === context?.cluster)?.cluster;
    const user = (doc.users ?? []).find((u) => u.name === context?.user)?.user ?? {};
    if (!cluster || typeof cluster.server !== "string" || Object.keys(cluster).some((k) => !INLINE_CLUSTER_FIELDS.includes(k))
        || Object.keys(user).some((k) => !INLINE_USER_FIELDS.includes(k))) {
        return undefined;
    }
    const data = (v: unknown) => (typeof v === "string" ? Buffer.from(v, "base64") : undefined);
    const basic = typeof user.username === "string" ? `Basic ${Buffer.from(`${user.username}:${user.password ?? ""}`).toString("base64")}` : undefined;
    return {
        server: cluster.server,
        ca: data(cluster["certificate-authority-data"]),
        cert: data(user["client-certificate-data"]),
        key: data(user["client-key-data"]),
        insecure: cluster["insecure-skip-tls-verify"] === true,
        serverName: typeof cluster["tls-server-name"] === "string" ? cluster["tls-server-name"] : undefined,
        authorization: typeof user.token === "string" ? `Bearer ${user.token}` : basic,
    };
}

/** Requests with inline credentials over one keep-alive pool, as kubeRequester sends them. */
export function inlineRequester(c: InlineCredentials): KubeRequest {
    const https = require("https") as typeof import("https");
    const http = require("http") as typeof import("http");
    const agent = c.server.startsWith("http:") ? new http.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS })
        : new https.Agent({
            keepAlive: true, maxSockets: MAX_SOCKETS, ca: c.ca, cert: c.cert, key: c.key,
            rejectUnauthorized: !c.insecure, servername: c.serverName,
        });
    return async (method, path, accept, body) => {
        const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
        const headers: Record<string, string | number> = { Accept: accept };
        if (c.authorization) {
            headers.Authorization = c.authorization;
        }
        if (data) {
            headers["Content-Type"] = contentType(method);
            headers["Content-Length"] = data.length;
        }
        return send(new URL(path, c.server), { method, headers, agent }, data);
    };
}

/** A PATCH body is a JSON merge patch (labels added to what is there); anything else is a whole object. */
const contentType = (method: string) => (method === "PATCH" ? "application/merge-patch+json" : "application/json");

export type KubeRequest = (method: string, path: string, accept: string, body?: unknown) => Promise<HttpReply>;

/** A request function for the kubeconfig's current cluster; transport errors reject, HTTP statuses resolve. */
export function kubeRequester(kc: k8sClient.KubeConfig): KubeRequest {
    // require, not import: this runs in the dynamic provider process from serialized code.
    const https = require("https") as typeof import("https");
    const http = require("http") as typeof import("http");
    const cluster = kc.getCurrentCluster();
    const base = cluster?.server ?? "";
    const plain = base.startsWith("http:");
    // TLS settings (CA, client certificate) travel in each request's options and key the pool, so one
    // agent serves the cluster even when an exec plugin hands out a new certificate.
    const agent = plain ? new http.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS })
        : new https.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS });
    return async (method, path, accept, body) => {
        const url = new URL(path, base);
        const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
        const headers: Record<string, string | number> = { Accept: accept };
        if (data) {
            headers["Content-Type"] = contentType(method);
            headers["Content-Length"] = data.length;
        }
        const opts: import("https").RequestOptions = { method, headers };
        // Sets the Authorization header (token, exec plugin, auth provider) and the TLS options.
        await kc.applyToHTTPSOptions(opts);
        // A proxy-url needs the library's proxy agent; such clusters keep one connection per request.
        if (!cluster?.proxyUrl) {
            opts.agent = agent;
        }
        return send(url, opts, data);
    };
}

/** One HTTP(S) request, its whole answer collected; transport errors reject, HTTP statuses resolve. */
export function send(url: URL, opts: import("https").RequestOptions, data?: Buffer): Promise<HttpReply> {
    const mod = url.protocol === "http:" ? require("http") as typeof import("http") : require("https") as typeof import("https");
    return new Promise<HttpReply>((resolve, reject) => {
        const req = mod.request(url, opts, (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
            res.on("error", reject);
        });
        req.on("error", reject);
        req.end(data);
    });
}

/** The reply's JSON, or an error carrying the HTTP status as `code`, as the generated client's errors do. */
export function jsonOf(reply: HttpReply, what: string): unknown {
    if (reply.status >= 300) {
        throw Object.assign(new Error(`HTTP ${reply.status} for ${what}: ${reply.body.slice(0, 300)}`), { code: reply.status });
    }
    try {
        return JSON.parse(reply.body);
    } catch (e) {
        throw Object.assign(new Error(`${what}: not JSON: ${(e as Error).message}`), { code: reply.status });
    }
}
