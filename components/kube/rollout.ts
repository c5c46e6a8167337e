// Whether a workload's latest template has reached its pods, read from its status as `kubectl rollout status` does.

/** One hollow workload's rollout: done, or what it still waits for. */
export interface Rollout {
    readonly kind: "StatefulSet" | "Deployment";
    readonly name: string;
    readonly done: boolean;
    /** What it waits for, for progress lines; "" when done. */
    readonly detail: string;
}

/** The fields of a StatefulSet or Deployment the judgement reads. */
export interface WorkloadObject {
    readonly metadata?: { readonly name?: string; readonly generation?: number };
    readonly spec?: { readonly replicas?: number };
    readonly status?: {
        readonly observedGeneration?: number;
        readonly replicas?: number;
        readonly updatedReplicas?: number;
        readonly currentRevision?: string;
        readonly updateRevision?: string;
    };
}

/**
 * A StatefulSet is rolled out once its controller saw the latest spec and every pod runs the update revision (the
 * controller sets currentRevision to it only then, one Ready pod after another); a fresh one is so at once. Readiness
 * is not asked beyond that: the sync judges the Nodes, which a pod that runs but is not yet Ready stands behind.
 * A Deployment: the latest spec seen, every replica updated and no old one left (kubectl's first three checks).
 */
export function rolloutOf(kind: Rollout["kind"], w: WorkloadObject): Rollout {
    const name = w.metadata?.name ?? "";
    const status = w.status ?? {};
    const wanted = w.spec?.replicas ?? 1;
    const waiting = (detail: string): Rollout => ({ kind, name, done: false, detail: `${name}: ${detail}` });
    if ((status.observedGeneration ?? 0) < (w.metadata?.generation ?? 1)) {
        return waiting("its controller has not seen the latest spec yet");
    }
    if (kind === "StatefulSet") {
        if (status.updateRevision !== undefined && status.currentRevision !== status.updateRevision) {
            return waiting(`${status.updatedReplicas ?? 0} of ${wanted} pods on the new template`);
        }
    } else {
        if ((status.updatedReplicas ?? 0) < wanted) {
            return waiting(`${status.updatedReplicas ?? 0} of ${wanted} pods on the new template`);
        }
        if ((status.replicas ?? 0) > (status.updatedReplicas ?? 0)) {
            return waiting(`${(status.replicas ?? 0) - (status.updatedReplicas ?? 0)} old pods still going`);
        }
    }
    return { kind, name, done: true, detail: "" };
}
