// The shared hollow kubelet identity at every tested minor: what that kubelet uses, nothing it must not have.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TESTED_RELEASES } from "../../components/config/releases";
import { HOLLOW_KUBELET_LEASE_RULES, hollowKubeletRules, kubeletConfinement, PolicyRule } from "../../components/credentials/policy";

const minorOf = (release: string) => Number(release.split(".")[1]);

/** Whether RBAC rules allow a verb on a resource of a group (no wildcards: the program writes none). */
function allows(rules: readonly PolicyRule[], group: string, resource: string, verb: string): boolean {
    return rules.some((r) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb));
}

/** What every release's hollow kubelet does (read on each release's source), as [group, resource, verb]. */
const ALWAYS: [string, string, string][] = [
    ["", "nodes", "create"], ["", "nodes", "get"], ["", "nodes", "list"], ["", "nodes", "watch"], ["", "nodes/status", "patch"],
    ["", "pods", "get"], ["", "pods", "list"], ["", "pods", "watch"], ["", "pods", "delete"], ["", "pods/status", "patch"],
    ["", "services", "list"], ["", "services", "watch"],
    ["storage.k8s.io", "csinodes", "get"], ["storage.k8s.io", "csinodes", "create"], ["storage.k8s.io", "csinodes", "update"],
    ["storage.k8s.io", "csidrivers", "list"], ["storage.k8s.io", "csidrivers", "watch"],
    ["node.k8s.io", "runtimeclasses", "list"], ["node.k8s.io", "runtimeclasses", "watch"],
];
/** Added from a minor on. */
const FROM: [number, string, string, string][] = [
    [35, "storage.k8s.io", "csinodes", "delete"],
    [37, "certificates.k8s.io", "podcertificaterequests", "list"],
    [37, "certificates.k8s.io", "podcertificaterequests", "watch"],
];
/** Never, at any minor: the refusal matrix's calls, and what RBAC could only grant for every object of the cluster. */
const NEVER: [string, string, string][] = [
    ["", "nodes", "update"], ["", "nodes", "patch"], ["", "nodes", "delete"], ["", "nodes/status", "update"],
    ["", "secrets", "get"], ["", "secrets", "list"], ["", "configmaps", "list"], ["", "serviceaccounts", "list"],
    ["", "serviceaccounts/token", "create"], ["", "pods", "create"], ["", "pods/eviction", "create"], ["", "events", "create"],
    ["coordination.k8s.io", "leases", "delete"], ["certificates.k8s.io", "certificatesigningrequests", "create"],
    ["certificates.k8s.io", "podcertificaterequests", "create"], ["rbac.authorization.k8s.io", "clusterroles", "create"],
];

describe("hollow kubelet rules per minor", () => {
    for (const release of TESTED_RELEASES) {
        const minor = minorOf(release);
        it(`${release}: what its kubelet uses, and none of the refused calls`, () => {
            const rules = hollowKubeletRules(minor);
            for (const [g, r, v] of ALWAYS) {
                assert.ok(allows(rules, g, r, v), `${release} lacks ${v} ${g || "core"}/${r}`);
            }
            for (const [from, g, r, v] of FROM) {
                assert.equal(allows(rules, g, r, v), minor >= from, `${release}: ${v} ${g}/${r} from v1.${from} only`);
            }
            for (const [g, r, v] of NEVER) {
                assert.ok(!allows(rules, g, r, v), `${release} grants ${v} ${g || "core"}/${r}`);
            }
            assert.ok(rules.every((x) => !x.verbs.includes("*") && !x.resources.includes("*") && !x.apiGroups.includes("*")), "no wildcard");
        });
    }

    it("grants Leases (in kube-node-lease only, by its binding) to read, create and renew, never to delete", () => {
        assert.deepEqual(HOLLOW_KUBELET_LEASE_RULES, [{ apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["get", "create", "update"] }]);
    });

    it("confines every write the rules allow to this stack's Nodes, and pod deletes to pods on them", () => {
        const policy = kubeletConfinement({ stackLabelKey: "s", stackLabelValue: "p.x", user: "u", nodeNamePrefix: "hollow-node-x-" }) as {
            matchConstraints: { resourceRules: { apiGroups: string[]; operations: string[]; resources: string[] }[] };
        };
        const matched = (g: string, r: string, op: string) => policy.matchConstraints.resourceRules
            .some((rule) => rule.apiGroups.includes(g) && rule.resources.includes(r) && rule.operations.includes(op));
        const newest = hollowKubeletRules(minorOf(TESTED_RELEASES[TESTED_RELEASES.length - 1]));
        const writes: [string, string, string, string][] = [
            ["", "nodes", "create", "CREATE"], ["", "nodes/status", "patch", "UPDATE"], ["", "pods/status", "patch", "UPDATE"],
            ["", "pods", "delete", "DELETE"], ["storage.k8s.io", "csinodes", "create", "CREATE"], ["storage.k8s.io", "csinodes", "update", "UPDATE"],
            ["storage.k8s.io", "csinodes", "delete", "DELETE"], ["coordination.k8s.io", "leases", "create", "CREATE"],
            ["coordination.k8s.io", "leases", "update", "UPDATE"],
        ];
        for (const [g, r, verb, op] of writes) {
            assert.ok(allows([...newest, ...HOLLOW_KUBELET_LEASE_RULES], g, r, verb), `${verb} ${r} is granted`);
            assert.ok(matched(g, r, op), `${op} ${r} is checked by the confinement policy`);
        }
    });
});
