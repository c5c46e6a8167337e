// Dynamic providers run from Pulumi state: NodeReaper (destroy-time GC) and HollowNodeSync (sweep + readiness).
import type * as pulumi from "@pulumi/pulumi";
import { cancellable, Clock, Log, patientLook, realClock } from "../kube/async";
import { ClusterApi, ClusterApiFactory, kubernetesClusterApi, PodInfo } from "../kube/clusterApi";
import { changedKeys, EngineCancel, engineCancel, providerLog, REQUEST_MS, RETRY_ADVICE, waitAdvice } from "../kube/dynamic";
import { isCancelled, isUnreachable } from "../kube/errors";
import type { LayoutPart } from "../hollow/names";
import { reapNodes } from "./reap";
import { labelPools, sweepStaleNodes, syncDrift, waitForReady } from "./sync";
import { assignPodCidrs } from "./podCidrs";

/**
 * Destroy runs the provider copy stored in state; a new version makes the next `up` store the new code before any
 * destroy needs it. test/unit/providerDigests.json holds the digest of each version's code.
 */
export const PROVIDER_VERSION = "9";
/** HollowNodeSync's own version: its code changes apart from the reaper's (the same digest rule). */
export const SYNC_PROVIDER_VERSION = "12";
/** diff runs on every preview: its drift check must be quick and never fail the preview. */
const DIFF_REQUEST_MS = 5000;

/** Inputs shared by both resources. Kubeconfigs hold credentials and are stored as secrets. */
export interface HollowNodeTarget {
    /** PROVIDER_VERSION (SYNC_PROVIDER_VERSION for HollowNodeSync) of the code that wrote this state. */
    readonly providerVersion: string;
    /** Single-context kubeconfig of the target cluster, where hollow Nodes register. */
    readonly targetKubeconfig: string;
    /** Single-context kubeconfig of the node cluster, where the hollow pods run. */
    readonly nodeKubeconfig: string;
    /** `<stack label key>=<value>`: exactly this stack's hollow Nodes. */
    readonly selector: string;
    /** The label key the selector must use; anything else is refused. */
    readonly selectorKey: string;
    /** Namespace of the hollow pods in the node cluster. */
    readonly namespace: string;
    /** Label selector of this stack's hollow pods. */
    readonly podSelector: string;
}

export interface NodeReaperInputs extends HollowNodeTarget {
    /** Bound on destroy's wait for pods to stop and Nodes to go. */
    readonly timeoutSeconds: number;
}

export interface HollowNodeSyncInputs extends HollowNodeTarget {
    readonly replicas: number;
    /** Hollow nodes per pod: the layout the sweep waits for before it judges a Node stale. */
    readonly nodesPerPod: number;
    /** Each workload's layout when the stack has pools or zones; absent for one workload (and in older state). */
    readonly parts?: readonly LayoutPart[];
    /** Bound on the Ready wait; 0 skips the wait. */
    readonly readyTimeoutSeconds: number;
    /** Bound on the stale-Node sweep. */
    readonly sweepTimeoutSeconds: number;
    /** Changes whenever the workload's spec does, so a rollout re-runs sweep and readiness. */
    readonly workloadFingerprint: string;
    /** The release every Node must report before it counts as Ready; absent in state from before (any counts). */
    readonly kubeletVersion?: string;
    /** The range whose blocks of podCidrMaskSize the sync gives Nodes without a podCIDR; absent: none given. */
    readonly podCidrRange?: string;
    readonly podCidrMaskSize?: number;
}

export interface HollowNodeSyncOutputs extends HollowNodeSyncInputs {
    readonly readyNodes: number;
    readonly registeredNodes: number;
    readonly sweptNodes: number;
}

function unreachable(role: string, server: string, e: unknown, bound: string): Error {
    return new Error(`cannot reach the ${role} cluster's API server ${server} (${(e as Error).message}) ${bound}. ` +
        `${RETRY_ADVICE}. ` +
        "If that cluster is gone for good, remove its Nodes yourself if needed and drop this resource with `pulumi state delete <urn>`");
}

/** What a provider method runs with: the clusters' API, a clock and a log, all ending at the user's Ctrl-C. */
function context(makeApi: ClusterApiFactory | undefined, clock: Clock | undefined, log: Log | undefined, cancel: EngineCancel | undefined) {
    const stop = cancel ?? engineCancel();
    const make = makeApi ?? kubernetesClusterApi;
    return {
        cancel: stop,
        clock: cancellable(clock ?? realClock, stop.signal),
        log: log ?? providerLog,
        api: (kubeconfig: string, requestMs: number) => make(kubeconfig, requestMs, stop.signal),
    };
}

export class NodeReaperProvider implements pulumi.dynamic.ResourceProvider {
    constructor(private readonly makeApi?: ClusterApiFactory, private readonly clock?: Clock, private readonly log?: Log,
        private readonly cancel?: EngineCancel) {}

    async create(inputs: NodeReaperInputs): Promise<pulumi.dynamic.CreateResult> {
        const api = (this.makeApi ?? kubernetesClusterApi)(inputs.targetKubeconfig, Math.min(REQUEST_MS, inputs.timeoutSeconds * 1000));
        try {
            await api.listNodes(inputs.selector);
        } catch (e) {
            throw unreachable("target", api.server, e, "before creating hollow nodes");
        }
        return { id: inputs.selector, outs: inputs };
    }

    async diff(_id: string, olds: NodeReaperInputs, news: NodeReaperInputs): Promise<pulumi.dynamic.DiffResult> {
        const changed = changedKeys(olds, news);
        // A new selector means other Nodes: reap the old set, then guard the new one.
        const replaces = changed.filter((k) => k === "selector" || k === "selectorKey");
        return { changes: changed.length > 0, replaces, deleteBeforeReplace: false };
    }

    async update(_id: string, _olds: NodeReaperInputs, news: NodeReaperInputs): Promise<pulumi.dynamic.UpdateResult> {
        return { outs: news };
    }

    async delete(_id: string, props: NodeReaperInputs): Promise<void> {
        const cx = context(this.makeApi, this.clock, this.log, this.cancel);
        const requestMs = Math.min(REQUEST_MS, props.timeoutSeconds * 1000);
        const target: ClusterApi = cx.api(props.targetKubeconfig, requestMs);
        const nodeCluster: ClusterApi = cx.api(props.nodeKubeconfig, requestMs);
        const bound = `within kubemark:reaperTimeoutSeconds (${props.timeoutSeconds}s)`;
        cx.log(`removing this stack's hollow Nodes once its pods are gone ${waitAdvice(cx.cancel, props.timeoutSeconds, "destroy")}`);
        try {
            await reapNodes(target, nodeCluster, {
                selector: props.selector,
                selectorKey: props.selectorKey,
                namespace: props.namespace,
                podSelector: props.podSelector,
                deadline: cx.clock.now() + props.timeoutSeconds * 1000,
            }, cx.clock, cx.log);
        } catch (e) {
            if (isCancelled(e)) {
                throw new Error(`destroy cancelled (Ctrl-C) before every hollow Node with ${props.selector} was removed from ` +
                    `${target.server}: run \`pulumi destroy\` again to finish`);
            }
            if (isUnreachable(e)) {
                const role = e.server === target.server ? "target" : "node";
                throw unreachable(role, e.server, e, `${bound}; the hollow Nodes with ${props.selector} were not removed`);
            }
            throw new Error(`removing hollow Nodes with ${props.selector} failed ${bound}: ${(e as Error).message}`);
        }
    }
}

export class HollowNodeSyncProvider implements pulumi.dynamic.ResourceProvider {
    constructor(private readonly makeApi?: ClusterApiFactory, private readonly clock?: Clock, private readonly log?: Log,
        private readonly cancel?: EngineCancel) {}

    private async sync(inputs: HollowNodeSyncInputs): Promise<HollowNodeSyncOutputs> {
        const cx = context(this.makeApi, this.clock, this.log, this.cancel);
        const target = cx.api(inputs.targetKubeconfig, REQUEST_MS);
        const nodeCluster = cx.api(inputs.nodeKubeconfig, REQUEST_MS);
        const request = {
            selector: inputs.selector,
            selectorKey: inputs.selectorKey,
            namespace: inputs.namespace,
            podSelector: inputs.podSelector,
            replicas: inputs.replicas,
            nodesPerPod: inputs.nodesPerPod,
            parts: inputs.parts,
            deadline: cx.clock.now() + inputs.sweepTimeoutSeconds * 1000,
        };
        const bound = inputs.sweepTimeoutSeconds + inputs.readyTimeoutSeconds;
        cx.log(`bringing this stack's hollow Nodes to ${inputs.replicas} Ready ${waitAdvice(cx.cancel, bound, "up")}`);
        try {
            const swept = await sweepStaleNodes(target, nodeCluster, request, cx.clock, cx.log);
            const counted = await waitForReady(target, nodeCluster, {
                ...request, readyDeadline: cx.clock.now() + inputs.readyTimeoutSeconds * 1000, kubeletVersion: inputs.kubeletVersion,
            }, cx.clock, cx.log);
            await labelPools(target, nodeCluster, { ...request, deadline: cx.clock.now() + inputs.sweepTimeoutSeconds * 1000 }, cx.clock, cx.log);
            if (inputs.podCidrRange !== undefined && inputs.podCidrMaskSize !== undefined) {
                await assignPodCidrs(target, {
                    selector: inputs.selector, range: inputs.podCidrRange, mask: inputs.podCidrMaskSize,
                    deadline: cx.clock.now() + inputs.sweepTimeoutSeconds * 1000,
                }, cx.clock, cx.log);
            }
            return { ...inputs, readyNodes: counted.ready, registeredNodes: counted.registered, sweptNodes: swept.length };
        } catch (e) {
            if (isCancelled(e)) {
                throw new Error("cancelled (Ctrl-C) while waiting for the hollow Nodes: the workload stays as applied, " +
                    "and the next `pulumi up` waits again");
            }
            // Say whether the pods exist at all: no pods means the workload, not the target, is the problem.
            const pods = await nodeCluster.listPods(inputs.namespace, inputs.podSelector).catch(() => undefined);
            const where = pods === undefined ? "" : ` ${pods.length} hollow pod(s) exist in namespace ${inputs.namespace} on ${nodeCluster.server}` +
                `${pods.length === 0 ? ` (see kubectl -n ${inputs.namespace} get events)` : ""}.`;
            throw new Error(`${(e as Error).message}.${where}`);
        }
    }

    async create(inputs: HollowNodeSyncInputs): Promise<pulumi.dynamic.CreateResult> {
        return { id: inputs.selector, outs: await this.sync(inputs) };
    }

    async diff(_id: string, olds: HollowNodeSyncOutputs, news: HollowNodeSyncInputs): Promise<pulumi.dynamic.DiffResult> {
        const outputKeys = new Set(["readyNodes", "registeredNodes", "sweptNodes"]);
        const oldInputs = Object.fromEntries(Object.entries(olds).filter(([k]) => !outputKeys.has(k)));
        if (changedKeys(oldInputs, news).length > 0) {
            return { changes: true };
        }
        // Nodes no pod stands behind, or fewer Ready than up left: drift the next up repairs and waits out.
        try {
            const make = this.makeApi ?? kubernetesClusterApi;
            const [nodes, pods] = await Promise.all([
                make(news.targetKubeconfig, DIFF_REQUEST_MS).listNodes(news.selector),
                make(news.nodeKubeconfig, DIFF_REQUEST_MS).listPods(news.namespace, news.podSelector),
            ]);
            return { changes: syncDrift(nodes, pods, news) };
        } catch {
            return { changes: false };
        }
    }

    async update(_id: string, _olds: HollowNodeSyncOutputs, news: HollowNodeSyncInputs): Promise<pulumi.dynamic.UpdateResult> {
        return { outs: await this.sync(news) };
    }

    /**
     * Destroy removes this first, before the workload: a node cluster that does not answer stops destroy here, with
     * what to do, rather than in the kubernetes provider, whose advice (PULUMI_K8S_DELETE_UNREACHABLE) would forget
     * hollow pods that may still run and re-register their Nodes.
     */
    async delete(_id: string, props: HollowNodeSyncOutputs): Promise<void> {
        const cx = context(this.makeApi, this.clock, this.log, this.cancel);
        const nodeCluster = cx.api(props.nodeKubeconfig, REQUEST_MS);
        try {
            await patientLook<PodInfo[]>("destroy", cx.clock.now() + REQUEST_MS, cx.clock, cx.log)(
                () => nodeCluster.listPods(props.namespace, props.podSelector));
        } catch (e) {
            if (!isUnreachable(e)) {
                throw e;
            }
            throw new Error(nodeClusterDown(nodeCluster.server, e, props.selector));
        }
    }
}

/** Why destroy stops when the node cluster is down, and what each way out costs. */
export function nodeClusterDown(server: string, e: Error, selector: string): string {
    return `cannot reach the node cluster's API server ${server} (${e.message}): destroy stops here, before the ` +
        "workload, because its hollow pods cannot be stopped while that cluster is down, and a hollow kubelet still " +
        `running would re-register the Nodes destroy removes. ${RETRY_ADVICE}. Do not set PULUMI_K8S_DELETE_UNREACHABLE=true ` +
        "for this: it drops the workload, Secrets and namespace from state without deleting them, so pods that come back " +
        "with the cluster keep registering Nodes this stack no longer knows. If the node cluster is gone for good (its pods " +
        `with it), \`pulumi state delete\` this resource and the NodeReaper, delete the Nodes with \`kubectl delete nodes -l ${selector}\` ` +
        "in the target, then destroy the rest";
}
