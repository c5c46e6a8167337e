// Dynamic provider of OwnershipGuard: refuses, at check time, names in either cluster that another owner holds.
import type * as pulumi from "@pulumi/pulumi";
import { ClusterApiFactory, kubernetesClusterApi } from "../kube/clusterApi";
import { isUnreachable } from "../kube/errors";
import { REQUEST_MS, RETRY_ADVICE, UNKNOWN_INPUT } from "../kube/dynamic";
import { OwnershipRequest, ownershipProblems } from "./rules";

/** Its code is stored in state; a new version makes the next `up` store new code (test/unit/providerDigests.json). */
export const OWNERSHIP_PROVIDER_VERSION = "8";

export interface OwnershipGuardInputs extends OwnershipRequest {
    /** OWNERSHIP_PROVIDER_VERSION of the code that wrote this state. */
    readonly providerVersion: string;
    /** Single-context kubeconfigs; they hold credentials and are stored as secrets. */
    readonly nodeKubeconfig: string;
    readonly targetKubeconfig: string;
}

/** The inputs that say which names are claimed; a change to any of them is checked again. */
const CLAIM_KEYS: readonly (keyof OwnershipRequest)[] = [
    "stackLabelKey", "stackLabelValue", "nodeObjects", "targetObjects", "existingNamespace", "nodeNamePrefix", "nodeCount",
    "nodesPerPod", "nodeGroups",
];

/** Only the inputs the check reads: the provider's own serialized code holds the unknown marker too. */
const hasUnknown = (news: OwnershipGuardInputs): boolean =>
    [news.nodeKubeconfig, news.targetKubeconfig, ...CLAIM_KEYS.map((k) => news[k])].some((v) => JSON.stringify(v ?? null).includes(UNKNOWN_INPUT));

function sameClaims(olds: Partial<OwnershipGuardInputs>, news: OwnershipGuardInputs): boolean {
    return CLAIM_KEYS.every((k) => JSON.stringify(olds[k]) === JSON.stringify(news[k]));
}

export class OwnershipGuardProvider implements pulumi.dynamic.ResourceProvider {
    constructor(private readonly makeApi?: ClusterApiFactory) {}

    /**
     * The check runs before the engine creates or updates anything, in preview and in up: a claim
     * already accepted (same names, in state) is not looked up again, so previews stay cheap.
     */
    async check(olds: Partial<OwnershipGuardInputs>, news: OwnershipGuardInputs): Promise<pulumi.dynamic.CheckResult> {
        // Unknown until an earlier resource exists (a preview): up checks again before creating anything.
        if ((olds.providerVersion !== undefined && sameClaims(olds, news)) || hasUnknown(news)) {
            return { inputs: news };
        }
        const make = this.makeApi ?? kubernetesClusterApi;
        const node = make(news.nodeKubeconfig, REQUEST_MS);
        const target = make(news.targetKubeconfig, REQUEST_MS);
        let problems: string[];
        try {
            problems = await ownershipProblems(node, target, news);
        } catch (e) {
            const role = isUnreachable(e) && e.server === target.server && target.server !== node.server ? "target" : "node";
            const where = isUnreachable(e) ? `the ${role} cluster` : "the clusters";
            problems = [`cannot check that the names this stack creates are free in ${where}: ${(e as Error).message}. ` +
                `Nothing was changed. ${RETRY_ADVICE}`];
        }
        // No property: the engine then prints the reason alone, not the (long) inputs.
        return { inputs: news, failures: problems.map((reason) => ({ property: "", reason })) };
    }

    async create(inputs: OwnershipGuardInputs): Promise<pulumi.dynamic.CreateResult> {
        return { id: inputs.stackLabelValue, outs: inputs };
    }

    async diff(_id: string, olds: OwnershipGuardInputs, news: OwnershipGuardInputs): Promise<pulumi.dynamic.DiffResult> {
        const changed = !sameClaims(olds, news) || olds.providerVersion !== news.providerVersion
            || olds.nodeKubeconfig !== news.nodeKubeconfig || olds.targetKubeconfig !== news.targetKubeconfig;
        return { changes: changed, replaces: [], deleteBeforeReplace: false };
    }

    async update(_id: string, _olds: OwnershipGuardInputs, news: OwnershipGuardInputs): Promise<pulumi.dynamic.UpdateResult> {
        return { outs: news };
    }

    async delete(): Promise<void> {
        // Claims nothing in the clusters: the objects it vouched for are deleted by their own resources.
    }
}
