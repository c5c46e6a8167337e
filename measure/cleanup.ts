// What keeps the run safe: its namespace, found by label, claimed by a heartbeat, and removed whatever happens.
import * as os from "node:os";
import { STACK_LABEL_KEY } from "../components/config/settings";
import { realClock } from "../components/kube/async";
import { pollUntil } from "./context";
import { deletePod, enc, Kube, listAll, PodLike, q, statusOf } from "./kube";
import { MEASURE_LABEL_KEY, RUN_LABEL_KEY } from "./objects";
import { parseMicroTime } from "./stats";

/** The Lease in the run's namespace that says a run is alive there; another run leaves that namespace alone. */
export const HEARTBEAT_LEASE = "measure-run";
export const HEARTBEAT_SECONDS = 30;
/** Looks at a namespace being removed: every second, for at most the bound given. */
const GONE_POLL_MS = 1000;

export const holderId = () => `${os.hostname()}/${process.pid}`;

type Log = (m: string) => void;

interface Lease {
    metadata?: { resourceVersion?: string };
    spec?: { holderIdentity?: string; renewTime?: string };
}

const microTime = (ms: number) => new Date(ms).toISOString().replace("Z", "000Z");

/** Creates or renews the run's heartbeat Lease in `namespace`. */
export async function heartbeat(api: Kube, namespace: string): Promise<void> {
    const path = `/apis/coordination.k8s.io/v1/namespaces/${enc(namespace)}/leases`;
    const now = microTime(Date.now());
    const body = {
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        metadata: { name: HEARTBEAT_LEASE, namespace },
        spec: { holderIdentity: holderId(), leaseDurationSeconds: HEARTBEAT_SECONDS, renewTime: now, acquireTime: now },
    };
    const existing = await api.maybe<Lease>("GET", `${path}/${HEARTBEAT_LEASE}`);
    if (!existing) {
        await api.json("POST", path, body);
        return;
    }
    const spec = {
        ...body.spec,
        acquireTime: (existing.spec as { acquireTime?: string } | undefined)?.acquireTime ?? now,
    };
    await api.json("PUT", `${path}/${HEARTBEAT_LEASE}`, {
        ...body,
        metadata: { ...body.metadata, resourceVersion: existing.metadata?.resourceVersion },
        spec,
    });
}

/**
 * Whether the run that holds a namespace is still alive: a process of this machine is asked directly (a crashed
 * run is dead at once); one elsewhere is alive while its heartbeat is younger than HEARTBEAT_SECONDS.
 */
export function holderAlive(
    holder: string | undefined,
    renewTime: string | undefined,
    nowMs: number,
    host = os.hostname(),
    pidAlive: (pid: number) => boolean = processAlive,
): boolean {
    if (!holder) {
        return false;
    }
    const slash = holder.lastIndexOf("/");
    const [h, pid] = [holder.slice(0, slash), Number(holder.slice(slash + 1))];
    if (h === host && Number.isInteger(pid)) {
        return pid !== process.pid && pidAlive(pid);
    }
    return renewTime !== undefined && nowMs - parseMicroTime(renewTime) < HEARTBEAT_SECONDS * 1000;
}

function processAlive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch (e) {
        return (e as NodeJS.ErrnoException).code === "EPERM";
    }
}

export const measureSelector = (labelValue: string) => `${STACK_LABEL_KEY}=${labelValue},${MEASURE_LABEL_KEY}=true`;

/**
 * Removes what an interrupted run of this stack left (namespaces with the stack's and the measure label); says what
 * it removed. One a live run holds is refused (a second load) or left alone (a churn beside a load). Nothing else is
 * looked at.
 */
export async function removeLeftovers(
    api: Kube,
    labelValue: string,
    boundMs: number,
    log: Log,
    onLive: "refuse" | "skip",
): Promise<string[]> {
    const namespaces = await listAll<{
        metadata?: {
            name?: string;
            labels?: Record<string, string>;
            annotations?: Record<string, string>;
            creationTimestamp?: string;
        };
    }>(api, "/api/v1/namespaces", { labelSelector: measureSelector(labelValue) });
    // A load spreads over several namespaces and beats in its first only: a run is alive if any of its namespaces says.
    const leases = new Map<string, Lease | undefined>();
    const live = new Map<string, Lease>();
    for (const ns of namespaces) {
        const name = ns.metadata?.name ?? "";
        const lease = await api.maybe<Lease>(
            "GET",
            `/apis/coordination.k8s.io/v1/namespaces/${enc(name)}/leases/${HEARTBEAT_LEASE}`,
        );
        leases.set(name, lease);
        if (lease && holderAlive(lease.spec?.holderIdentity, lease.spec?.renewTime, Date.now())) {
            live.set(ns.metadata?.labels?.[RUN_LABEL_KEY] ?? name, lease);
        }
    }
    const removed: string[] = [];
    for (const ns of namespaces) {
        const name = ns.metadata?.name ?? "";
        const alive = live.get(ns.metadata?.labels?.[RUN_LABEL_KEY] ?? name);
        if (alive) {
            if (onLive === "skip") {
                log(
                    `a load run (${alive.spec?.holderIdentity}) is using namespace ${name}: its pods' evictions are recorded`,
                );
                continue;
            }
            throw new Error(
                `another measure run (${alive.spec?.holderIdentity}, heartbeat ${alive.spec?.renewTime}) is using namespace ` +
                    `${name} of this stack in ${api.server}: wait for it to end, or stop it (its Ctrl-C removes what it created)`,
            );
        }
        const holder = leases.get(name)?.spec?.holderIdentity;
        log(
            `removing what an interrupted run left: namespace ${name} (created ${ns.metadata?.creationTimestamp ?? "?"} by ` +
                `${holder ?? ns.metadata?.annotations?.["kubemark-pulumi/measure-holder"] ?? "an unknown run"})`,
        );
        await deleteNamespace(api, name, boundMs, log);
        removed.push(name);
    }
    // The load's PriorityClass is cluster-wide: one of a run no longer alive goes too.
    const classes = await listAll<{ metadata?: { name?: string; labels?: Record<string, string> } }>(
        api,
        "/apis/scheduling.k8s.io/v1/priorityclasses",
        { labelSelector: measureSelector(labelValue) },
    ).catch(() => []);
    for (const pc of classes) {
        const name = pc.metadata?.name ?? "";
        if (!live.has(pc.metadata?.labels?.[RUN_LABEL_KEY] ?? "")) {
            log(`removing what an interrupted run left: PriorityClass ${name}`);
            await api.maybe("DELETE", `/apis/scheduling.k8s.io/v1/priorityclasses/${enc(name)}`);
            removed.push(`PriorityClass ${name}`);
        }
    }
    return removed;
}

/**
 * Deletes the run's namespace and waits until it is gone. Pods whose kubelet does not confirm their deletion (a
 * hollow Node that is down) would hold it for good: past half the bound, the pods left in it are removed at once.
 */
export async function deleteNamespace(api: Kube, name: string, boundMs: number, log: Log): Promise<void> {
    const path = `/api/v1/namespaces/${enc(name)}`;
    const started = Date.now();
    try {
        await api.json("DELETE", path, { apiVersion: "v1", kind: "DeleteOptions", propagationPolicy: "Background" });
    } catch (e) {
        if (statusOf(e) === 404) {
            return;
        }
        throw e;
    }
    let forced = false;
    // After a Ctrl-C too: the real clock, no signal.
    const poll = {
        clock: realClock,
        log,
        untilMs: started + boundMs,
        bound: `${Math.round(boundMs / 1000)}s`,
        everyMs: GONE_POLL_MS,
        progressEveryMs: 10_000,
    };
    await pollUntil(
        poll,
        `namespace ${name} gone`,
        async () => {
            if (!(await api.maybe("GET", path))) {
                return true;
            }
            if (!forced && Date.now() - started > boundMs / 2) {
                forced = true;
                const pods = await listAll<PodLike>(api, `${path}/pods`);
                log(
                    `namespace ${name} still terminating after ${Math.round((Date.now() - started) / 1000)}s; ` +
                        `removing its ${pods.length} pod(s) without waiting for their kubelets`,
                );
                for (const p of pods) {
                    await deletePod(api, name, p.metadata?.name ?? "", p.metadata?.uid ?? "", 0);
                }
            }
            return false;
        },
        () => `still terminating; see \`kubectl get namespace ${name} -o yaml\`; the next run removes it first`,
    );
}

/** Creates the run's namespace; one that exists without this stack's measure labels is someone else's: refused. */
export async function createNamespace(
    api: Kube,
    body: { metadata: { name: string; labels: Record<string, string> } },
): Promise<void> {
    try {
        await api.json("POST", "/api/v1/namespaces", body);
    } catch (e) {
        if (statusOf(e) !== 409) {
            throw e;
        }
        const found = await api.maybe<{ metadata?: { labels?: Record<string, string>; deletionTimestamp?: string } }>(
            "GET",
            `/api/v1/namespaces/${enc(body.metadata.name)}`,
        );
        const mine =
            found?.metadata?.labels?.[STACK_LABEL_KEY] === body.metadata.labels[STACK_LABEL_KEY] &&
            found?.metadata?.labels?.[MEASURE_LABEL_KEY] === "true";
        throw new Error(
            mine
                ? `namespace ${body.metadata.name} appeared while this run started${found?.metadata?.deletionTimestamp ? " (still terminating)" : ""}: ` +
                      "is another run of this stack starting? Run again"
                : `namespace ${body.metadata.name} exists in ${api.server} and is not this stack's measure namespace ` +
                      `(labels ${JSON.stringify(found?.metadata?.labels ?? {})}): the run never touches it; remove or rename it`,
        );
    }
}

/** Pods of the load left in the namespace, for the closing check. */
export async function podsLeft(api: Kube, namespace: string): Promise<number> {
    try {
        return (
            (
                await api.json<{ items?: unknown[] }>(
                    "GET",
                    `/api/v1/namespaces/${enc(namespace)}/pods${q({ limit: 500 })}`,
                )
            ).items?.length ?? 0
        );
    } catch (e) {
        if (statusOf(e) === 404) {
            return 0;
        }
        throw e;
    }
}
