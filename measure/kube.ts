// The run's API calls, over the providers' keep-alive connection (components/kube/http.ts), each bounded in time.
import * as k8s from "@kubernetes/client-node";
import { realClock } from "../components/kube/async";
import { REQUEST_MS } from "../components/kube/dynamic";
import { connect, jsonOf } from "../components/kube/http";

export interface Kube {
    readonly server: string;
    /** The answer's JSON; an HTTP error status throws with it as `code`; no answer throws an UnreachableError. */
    json<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
    /** Like json, but undefined for 404: the object is not there. */
    maybe<T = unknown>(method: string, path: string, body?: unknown): Promise<T | undefined>;
    /** Any answer as text, with its status: /metrics, the kubelet's summary. */
    text(path: string, accept?: string): Promise<{ status: number; body: string }>;
    /** For @kubernetes/client-node's Watch. */
    kubeConfig(): k8s.KubeConfig;
}

export function statusOf(e: unknown): number | undefined {
    const code = (e as { code?: unknown })?.code;
    return typeof code === "number" ? code : undefined;
}

/** A cluster reached with `kubeconfig`; every call ends at the request bound, and at once when `signal` aborts. */
export function kube(kubeconfig: string, signal?: AbortSignal): Kube {
    const conn = connect(kubeconfig, REQUEST_MS, signal);
    const json = async <T>(method: string, path: string, body?: unknown) =>
        jsonOf(await conn.send(method, path, "application/json", body), `${method} ${path.split("?")[0]}`) as T;
    return {
        server: conn.server,
        json,
        async maybe<T>(method: string, path: string, body?: unknown) {
            try {
                return await json<T>(method, path, body);
            } catch (e) {
                if (statusOf(e) === 404) {
                    return undefined;
                }
                throw e;
            }
        },
        async text(path, accept = "text/plain") {
            const reply = await conn.send("GET", path, accept);
            return { status: reply.status, body: reply.body };
        },
        kubeConfig: () => conn.kubeConfig(),
    };
}

export const q = (params: Record<string, string | number | undefined>) => {
    const s = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) {
        if (v !== undefined) {
            s.set(k, String(v));
        }
    }
    return s.toString() ? `?${s}` : "";
};
export const enc = encodeURIComponent;

/** Every item of a list, read in pages so that a large cluster answers in parts. */
export async function listAll<T = unknown>(
    api: Kube,
    path: string,
    params: Record<string, string | undefined> = {},
): Promise<T[]> {
    const items: T[] = [];
    let token: string | undefined;
    for (let page = 0; page < 10_000; page++) {
        const list = await api.json<{ items?: T[]; metadata?: { continue?: string } }>(
            "GET",
            `${path}${q({ ...params, limit: 500, continue: token })}`,
        );
        items.push(...(list.items ?? []));
        token = list.metadata?.continue || undefined;
        if (!token) {
            return items;
        }
    }
    throw new Error(`${path}: more than 10000 pages`);
}

/** Deletes a pod only while it is the very object named by `uid`; false when it was gone or replaced. */
export async function deletePod(
    api: Kube,
    namespace: string,
    name: string,
    uid: string,
    gracePeriodSeconds: number,
): Promise<boolean> {
    try {
        await api.json("DELETE", `/api/v1/namespaces/${enc(namespace)}/pods/${enc(name)}`, {
            apiVersion: "v1",
            kind: "DeleteOptions",
            gracePeriodSeconds,
            preconditions: { uid },
        });
        return true;
    } catch (e) {
        if (statusOf(e) === 404 || statusOf(e) === 409) {
            return false;
        }
        throw e;
    }
}

/**
 * Puts a finalizer on a pod (or takes it off) while it is the very object named by `uid`: read, change, update, read
 * again on a concurrent change (409). False when that pod is gone. A PUT, not a PATCH: the keep-alive client sends
 * application/json, which PATCH does not take.
 */
export async function setPodFinalizer(
    api: Kube,
    namespace: string,
    name: string,
    uid: string,
    finalizer: string,
    on: boolean,
): Promise<boolean> {
    const path = `/api/v1/namespaces/${enc(namespace)}/pods/${enc(name)}`;
    for (let attempt = 0; attempt < 5; attempt++) {
        const pod = await api.maybe<{ metadata?: { uid?: string; finalizers?: string[] } }>("GET", path);
        if (!pod?.metadata || pod.metadata.uid !== uid) {
            return false;
        }
        const finalizers = pod.metadata.finalizers ?? [];
        if (finalizers.includes(finalizer) === on) {
            return true;
        }
        const others = finalizers.filter((f) => f !== finalizer);
        try {
            await api.json("PUT", path, {
                ...pod,
                metadata: { ...pod.metadata, finalizers: on ? [...others, finalizer] : others },
            });
            return true;
        } catch (e) {
            if (statusOf(e) === 404) {
                return false;
            }
            if (statusOf(e) !== 409) {
                throw e;
            }
        }
    }
    throw new Error(
        `pod ${namespace}/${name} kept changing while its finalizer ${finalizer} was ${on ? "added" : "removed"}`,
    );
}

export interface PodLike {
    metadata?: {
        name?: string;
        uid?: string;
        namespace?: string;
        creationTimestamp?: string;
        deletionTimestamp?: string;
        finalizers?: string[];
        labels?: Record<string, string>;
        annotations?: Record<string, string>;
        ownerReferences?: { kind: string; name: string; uid: string; controller?: boolean }[];
        resourceVersion?: string;
    };
    spec?: { nodeName?: string };
    status?: {
        phase?: string;
        conditions?: { type: string; status: string; reason?: string; lastTransitionTime?: string }[];
        containerStatuses?: { name: string; state?: { running?: { startedAt?: string } } }[];
    };
}

export interface NodeLike {
    metadata?: { name?: string; labels?: Record<string, string> };
    spec?: { taints?: { key: string; value?: string; effect: string; timeAdded?: string }[] };
    status?: {
        conditions?: {
            type: string;
            status: string;
            reason?: string;
            lastTransitionTime?: string;
            lastHeartbeatTime?: string;
        }[];
        allocatable?: Record<string, string>;
    };
}

export const nodeReady = (n: NodeLike) =>
    (n.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");

/**
 * Watches `path` with @kubernetes/client-node's Watch, restarting from the last resourceVersion when the server
 * closes the stream (and from a fresh list, whose objects come as ADDED, when that version is too old); bounded
 * in restarts. `onEvent` gets each event with the moment it arrived.
 */
export function watch(
    api: Kube,
    path: string,
    params: Record<string, string>,
    onEvent: (type: string, obj: { metadata?: { resourceVersion?: string } }, atMs: number) => void,
    log: (m: string) => void,
): { stop(): Promise<void> } {
    const MAX_RESTARTS = 1000;
    let stopped = false;
    let controller: AbortController | undefined;
    let resourceVersion: string | undefined;
    let restarts = 0;
    let wake: (() => void) | undefined;
    const loop = (async () => {
        while (!stopped && restarts++ < MAX_RESTARTS) {
            const ended = new Promise<void>((resolve) => {
                wake = resolve;
            });
            try {
                controller = await new k8s.Watch(api.kubeConfig()).watch(
                    path,
                    { ...params, allowWatchBookmarks: true, resourceVersion },
                    (type: string, obj: { metadata?: { resourceVersion?: string } }) => {
                        const atMs = Date.now();
                        if (type === "ERROR") {
                            // 410 Gone: the version is too old; list again.
                            resourceVersion = undefined;
                            return;
                        }
                        resourceVersion = obj?.metadata?.resourceVersion ?? resourceVersion;
                        if (type !== "BOOKMARK") {
                            onEvent(type, obj, atMs);
                        }
                    },
                    (err) => {
                        if (err && !stopped) {
                            log(`watch of ${path} ended (${(err as Error).message ?? err}); watching again`);
                        }
                        wake?.();
                    },
                );
                if (stopped) {
                    controller.abort();
                }
            } catch (e) {
                log(`watch of ${path} failed (${(e as Error).message}); watching again`);
                wake?.();
            }
            await ended;
            if (!stopped) {
                await realClock.sleep(500);
            }
        }
    })();
    return {
        async stop() {
            stopped = true;
            controller?.abort();
            wake?.();
            await loop;
        },
    };
}
