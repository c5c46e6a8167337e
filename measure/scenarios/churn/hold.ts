// Keeps killed hollow pods down for their window: a finalizer holds the pod, an admission policy its owner's creates.
import { holderAlive, holderId } from "../../cleanup";
import { RunContext, since, waitUntil } from "../../context";
import { enc, Kube, PodLike, q, setPodFinalizer, statusOf } from "../../kube";
import { MEASURE_LABEL_KEY } from "../../objects";
import { STACK_LABEL_KEY } from "../../../components/config/settings";
import type { HollowPod } from "./hollowPods";
import {
    ADMISSION_API,
    BINDINGS_PATH,
    deniedBy,
    HOLD_POLICY_PREFIX,
    HOLDER_ANNOTATION,
    holdBinding,
    holdPolicy,
    holdPolicyName,
    needsPolicy,
    POLICIES_PATH,
    probePod,
    servesPolicies,
} from "./policy";

/**
 * Holds a killed pod as a terminating object until its window ends: its containers stop, and a StatefulSet makes no
 * pod under that name while the old one is there. Deleting each replacement as it appeared left one of two kills
 * never NotReady in the lab (a replacement's hollow kubelet renewed the Lease before it went).
 */
export const HOLD_FINALIZER = "kubemark-pulumi/churn-hold";
/** Bound on the API server taking up a new policy, or dropping a removed one (it reads them from a watch). */
const POLICY_SETTLE_MS = 10_000;

/** One kill's hold, from the kill until its release. */
export interface Hold {
    readonly kill: number;
    readonly pod: HollowPod;
    readonly policy?: string;
    /** When the release began: the window's end (early when the run stops early). */
    endedMs?: number;
    /** When the release was done: the policy gone, the finalizer off. */
    releasedMs?: number;
    released?: Promise<void>;
}

type Log = (m: string) => void;

export class Holds {
    private readonly holds: Hold[] = [];
    /** What the last dry run answered, when it was not the policy's refusal. */
    private probeNote = "";

    /** `quiet` makes the calls that must outlive a Ctrl-C: removing a policy, releasing a pod. */
    constructor(
        private readonly cx: RunContext,
        private readonly quiet: Kube,
    ) {}

    private get podsPath() {
        return `/api/v1/namespaces/${enc(this.cx.stack.namespace)}/pods`;
    }

    /**
     * What an interrupted churn of this stack left: pods held terminating (released), policies and bindings of a run
     * no longer alive (removed). Returns what it removed.
     */
    async removeLeftovers(): Promise<string[]> {
        const { cx } = this;
        const removed: string[] = [];
        const pods = await cx.nodeCluster.json<{ items?: PodLike[] }>(
            "GET",
            `${this.podsPath}${q({ labelSelector: cx.stack.podSelector })}`,
        );
        for (const p of (pods.items ?? []).filter((x) => (x.metadata?.finalizers ?? []).includes(HOLD_FINALIZER))) {
            cx.log(`releasing hollow pod ${p.metadata?.name}, held down by an interrupted churn`);
            await setPodFinalizer(
                cx.nodeCluster,
                cx.stack.namespace,
                p.metadata?.name ?? "",
                p.metadata?.uid ?? "",
                HOLD_FINALIZER,
                false,
            );
            removed.push(`held pod ${p.metadata?.name}`);
        }
        const selector = q({ labelSelector: `${STACK_LABEL_KEY}=${cx.stack.labelValue},${MEASURE_LABEL_KEY}=true` });
        for (const [path, kind] of [
            [BINDINGS_PATH, "ValidatingAdmissionPolicyBinding"],
            [POLICIES_PATH, "ValidatingAdmissionPolicy"],
        ]) {
            type Listed = { metadata?: { name?: string; annotations?: Record<string, string> } };
            // Not served (before v1.30): none can have been left. Not readable: this run cannot have made one either.
            const list = await cx.nodeCluster.maybe<{ items?: Listed[] }>("GET", `${path}${selector}`).catch((e) => {
                if (statusOf(e) !== 403) {
                    throw e;
                }
                cx.log(
                    `cannot list ${kind}s in the node cluster, so none an interrupted churn left is removed: ${(e as Error).message}`,
                );
                return undefined;
            });
            for (const o of list?.items ?? []) {
                const name = o.metadata?.name ?? "";
                if (
                    !name.startsWith(HOLD_POLICY_PREFIX) ||
                    holderAlive(o.metadata?.annotations?.[HOLDER_ANNOTATION], undefined, Date.now())
                ) {
                    continue;
                }
                cx.log(`removing ${kind} ${name}, left by an interrupted churn`);
                await cx.nodeCluster.maybe("DELETE", `${path}/${enc(name)}`);
                removed.push(`${kind} ${name}`);
            }
        }
        return removed;
    }

    /**
     * Refuses, before anything is killed, a churn whose kills need the admission policy where the node cluster does
     * not serve it (before v1.30) or the node kubeconfig may not make it, naming what is missing.
     */
    async check(victims: readonly HollowPod[]): Promise<void> {
        const { cx } = this;
        const owners = [
            ...new Map(victims.filter((v) => needsPolicy(v.owner)).map((v) => [v.owner.uid, v.owner])).values(),
        ];
        if (owners.length === 0) {
            return;
        }
        const what =
            `the churn keeps a killed ${owners[0].kind}'s pod from being replaced during its window with a ValidatingAdmissionPolicy ` +
            `(${ADMISSION_API}, Kubernetes v1.30 or later) in the node cluster ${cx.nodeCluster.server}`;
        if (!servesPolicies(await cx.nodeCluster.maybe(`GET`, `/apis/${ADMISSION_API}`))) {
            const version = await cx.nodeCluster
                .maybe<{ gitVersion?: string }>("GET", "/version")
                .catch(() => undefined);
            throw new Error(
                `${what}, which does not serve it (it runs ${version?.gitVersion ?? "an unknown version"}); nothing was killed. ` +
                    "Measure the churn on a StatefulSet stack (workloadKind), whose killed pods are held without it, or a node cluster of v1.30 or later",
            );
        }
        const denied: string[] = [];
        for (const [group, resource, verb, namespace] of [
            ["admissionregistration.k8s.io", "validatingadmissionpolicies", "create"],
            ["admissionregistration.k8s.io", "validatingadmissionpolicies", "delete"],
            ["admissionregistration.k8s.io", "validatingadmissionpolicybindings", "create"],
            ["admissionregistration.k8s.io", "validatingadmissionpolicybindings", "delete"],
            ["", "pods", "create", cx.stack.namespace],
        ]) {
            const review = await cx.nodeCluster.json<{ status?: { allowed?: boolean } }>(
                "POST",
                "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                {
                    apiVersion: "authorization.k8s.io/v1",
                    kind: "SelfSubjectAccessReview",
                    spec: { resourceAttributes: { group, resource, verb, namespace } },
                },
            );
            if (!review.status?.allowed) {
                denied.push(`${verb} ${resource}${namespace ? ` in ${namespace} (a dry run checks the policy)` : ""}`);
            }
        }
        if (denied.length > 0) {
            throw new Error(
                `${what}, but the stack's node kubeconfig may not ${denied.join(", ")}; nothing was killed`,
            );
        }
    }

    /**
     * Holds `victim` before it is killed: the finalizer, then for a ReplicaSet's or ReplicationController's pod the
     * policy, and waits until the API server refuses the owner's pods. Undefined when the pod is gone (or replaced).
     */
    async hold(kill: number, victim: HollowPod): Promise<Hold | undefined> {
        const { cx } = this;
        if (
            !(await setPodFinalizer(cx.nodeCluster, cx.stack.namespace, victim.name, victim.uid, HOLD_FINALIZER, true))
        ) {
            return undefined;
        }
        const policy = needsPolicy(victim.owner) ? holdPolicyName(cx.runId, kill) : undefined;
        const h: Hold = { kill, pod: victim, policy };
        this.holds.push(h);
        if (!policy) {
            return h;
        }
        try {
            const p = {
                name: policy,
                namespace: cx.stack.namespace,
                owner: victim.owner,
                pod: victim.name,
                stackLabelValue: cx.stack.labelValue,
                runId: cx.runId,
                holder: holderId(),
            };
            await cx.nodeCluster.json("POST", POLICIES_PATH, holdPolicy(p));
            await cx.nodeCluster.json("POST", BINDINGS_PATH, holdBinding(p));
            await waitUntil(
                cx,
                `admission policy ${policy} in force`,
                POLICY_SETTLE_MS,
                () => this.refuses(cx.nodeCluster, victim, policy),
                () => this.probeNote,
                200,
            );
        } catch (e) {
            await this.release(h, cx.log);
            throw e;
        }
        return h;
    }

    /**
     * Whether the API server refuses a dry-run pod of the victim's owner by this very policy. Refused by anything else
     * (or not answered), the policy's effect cannot be read: kept for the progress line, and taken as not refused.
     */
    private async refuses(api: Kube, victim: HollowPod, policy: string): Promise<boolean> {
        try {
            await api.json("POST", `${this.podsPath}?dryRun=All`, probePod(this.cx.stack.namespace, victim.owner));
            this.probeNote = "a dry-run pod of its owner is admitted";
            return false;
        } catch (e) {
            if (deniedBy(e, policy)) {
                return true;
            }
            this.probeNote = `a dry-run pod of its owner: ${(e as Error).message}`;
            return false;
        }
    }

    /**
     * Ends a hold, once: the policy goes first and the API server is seen to admit the owner's pods again, then the
     * finalizer. That order is the nudge: the pod's removal is an event of the owner's pod, which queues the owner
     * at once, while the creates the policy refused put it in exponential backoff (5 ms doubling per refusal): on
     * v1.31, without the nudge, a ReplicaSet made its pod 22 s after a 60 s window's policy went; with it, within 1 s.
     * A StatefulSet, held by the finalizer alone, brings the pod back under its name.
     */
    release(h: Hold, log: Log): Promise<void> {
        h.released ??= (async () => {
            const { cx, quiet } = this;
            h.endedMs = Date.now();
            const notes: string[] = [];
            if (h.policy) {
                const failed: string[] = [];
                for (const path of [BINDINGS_PATH, POLICIES_PATH]) {
                    await quiet
                        .maybe("DELETE", `${path}/${enc(h.policy)}`)
                        .catch((e) => failed.push((e as Error).message));
                }
                if (failed.length === 0 && !cx.signal.aborted) {
                    await waitUntil(
                        cx,
                        `admission policy ${h.policy} gone`,
                        POLICY_SETTLE_MS,
                        async () => !(await this.refuses(quiet, h.pod, h.policy as string)),
                        () => "a dry-run pod is still refused by it",
                        200,
                    ).catch((e) => notes.push((e as Error).message));
                }
                notes.push(
                    failed.length === 0
                        ? `admission policy ${h.policy} removed`
                        : `removing admission policy ${h.policy} failed (${failed.join("; ")}): the next churn of this stack removes it`,
                );
            }
            const found = await setPodFinalizer(
                quiet,
                cx.stack.namespace,
                h.pod.name,
                h.pod.uid,
                HOLD_FINALIZER,
                false,
            ).catch((e) => {
                notes.push(`releasing: ${(e as Error).message}`);
                return true;
            });
            h.releasedMs = Date.now();
            notes.push(
                found
                    ? `hollow pod ${h.pod.name} released`
                    : `hollow pod ${h.pod.name} was gone (its hold had been taken off)`,
            );
            const next =
                h.pod.owner.kind === "StatefulSet"
                    ? "its StatefulSet brings it back"
                    : `its ${h.pod.owner.kind} may replace it`;
            log(`kill ${h.kill}: window over: ${notes.join("; ")}; ${next} (${since(cx)}s)`);
        })();
        return h.released;
    }

    /** Whatever ended the run (done, failed, Ctrl-C), nothing stays held: a held workload would wait for good. */
    async releaseAll(log: Log): Promise<void> {
        await Promise.all(this.holds.map((h) => this.release(h, log)));
    }

    /** Other kills still holding the same owner: its creates stay refused until their windows end too. */
    heldBy(h: Hold): Hold[] {
        return this.holds.filter(
            (o) => o !== h && o.policy && o.pod.owner.uid === h.pod.owner.uid && o.releasedMs === undefined,
        );
    }
}
