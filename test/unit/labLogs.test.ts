// Which hollow log lines count as a refusal of something a kubelet or proxy needs, on lines seen in the lab.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { NODE_GRAPH_RACE, REFUSAL } from "../../lab/lab";

const cases: [string, string, "refusal" | "race" | "none"][] = [
    ["a shared kubelet without CSIDriver rights (v1.29–v1.37 before this program granted them)",
        'E1207 09:40:46.7 1 reflector.go:200] "Failed to watch" err="failed to list *v1.CSIDriver: csidrivers.storage.k8s.io is forbidden: ' +
        'User \\"system:serviceaccount:x:hollow-kubelet\\" cannot list resource \\"csidrivers\\" in API group \\"storage.k8s.io\\" at the cluster scope"',
        "refusal"],
    ["a v1.33 proxy on a v1.31 API server", 'E1207 reflector.go:158] "Unhandled Error" err="failed to list *v1.ServiceCIDR: the server could not find the requested resource"',
        "refusal"],
    ["the status manager after a pod's deletion (Node authorizer)",
        'E1207 09:59:30.102893 1 status_manager.go:1257] "Failed to get status for pod" err="pods \\"load-0006-6dc89b9f9d-5k8mb\\" is forbidden: ' +
        'User \\"system:node:hollow-node-lab-0\\" cannot get resource \\"pods\\" in API group \\"\\" in the namespace \\"kubemark-measure-lab\\": ' +
        "node: no relationship found between node 'hollow-node-lab-0' and this object\"", "race"],
    ["a just-bound pod's kube-root-ca.crt before the Node authorizer's graph has the binding (v1.29.15)",
        'W1207 22:14:29.278728 1 reflector.go:539] object-"fleet-e2e"/"kube-root-ca.crt": failed to list *v1.ConfigMap: configmaps "kube-root-ca.crt" ' +
        'is forbidden: User "system:node:hollow-node-fleet-general-zone-a-0-0" cannot list resource "configmaps" in API group "" in the namespace ' +
        "\"fleet-e2e\": no relationship found between node 'hollow-node-fleet-general-zone-a-0-0' and this object", "race"],
    ["a ConfigMap refused at the cluster scope", 'E1207 reflector.go:158] failed to list *v1.ConfigMap: configmaps is forbidden: User "system:node:n" ' +
        'cannot list resource "configmaps" in API group "" at the cluster scope', "refusal"],
    ["the Node before it registered", 'E1207 kubelet_node_status.go:479] "Error updating node status, will retry" err="error getting node \\"n\\": node \\"n\\" not found"', "none"],
    ["the fake cAdvisor", 'E1207 eviction_manager.go:272] "Eviction manager: failed to get HasDedicatedImageFs" err="imagefs device is not found"', "none"],
];

describe("hollow log refusals", () => {
    for (const [what, line, want] of cases) {
        it(`${what}: ${want}`, () => {
            const got = !REFUSAL.test(line) ? "none" : NODE_GRAPH_RACE.test(line) ? "race" : "refusal";
            assert.equal(got, want);
        });
    }
});
