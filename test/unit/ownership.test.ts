// Ownership guard: which names a stack claims, and the refusals when someone else holds one (in-memory clusters).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { expectedNodeNames, nodeClusterObjects, OwnershipRequest, ownershipProblems, ownerText } from "../../components/ownership/rules";
import { OWNERSHIP_PROVIDER_VERSION, OwnershipGuardInputs, OwnershipGuardProvider } from "../../components/ownership/provider";
import { FakeCluster } from "../harness/fakeCluster";

const KEY = "kubemark-pulumi/stack";
const MINE = "kubemark.dev";
const base = { namespace: "kubemark-dev", secretNames: ["hollow-node-dev-kubeconfig"], workloadNames: ["hollow-node-dev"] };

function request(over: Partial<OwnershipRequest> = {}): OwnershipRequest {
    return {
        stackLabelKey: KEY, stackLabelValue: MINE,
        nodeObjects: nodeClusterObjects({ ...base, createNamespace: true, workloadKind: "StatefulSet" }),
        targetObjects: [], existingNamespace: "", nodeNamePrefix: "hollow-node-dev-", nodeCount: 3, ...over,
    };
}

describe("claimed names", () => {
    const table = [
        { createNamespace: true, workloadKind: "StatefulSet", want: ["Namespace /kubemark-dev", "Secret kubemark-dev/hollow-node-dev-kubeconfig", "StatefulSet kubemark-dev/hollow-node-dev", "StatefulSet kubemark-dev/hollow-node-dev-last"] },
        { createNamespace: false, workloadKind: "Deployment", want: ["Secret kubemark-dev/hollow-node-dev-kubeconfig", "Deployment kubemark-dev/hollow-node-dev", "Deployment kubemark-dev/hollow-node-dev-last"] },
        { createNamespace: true, workloadKind: "ReplicationController", want: ["Namespace /kubemark-dev", "Secret kubemark-dev/hollow-node-dev-kubeconfig", "ReplicationController kubemark-dev/hollow-node-dev", "ReplicationController kubemark-dev/hollow-node-dev-last"] },
        { createNamespace: true, workloadKind: "StatefulSet", certShards: 2, want: ["Namespace /kubemark-dev", "Secret kubemark-dev/hollow-node-dev-kubeconfig",
            "Secret kubemark-dev/hollow-node-dev-certs-0", "Secret kubemark-dev/hollow-node-dev-certs-1", "StatefulSet kubemark-dev/hollow-node-dev", "StatefulSet kubemark-dev/hollow-node-dev-last"] },
    ] as const;
    for (const { createNamespace, workloadKind, want, ...rest } of table) {
        const shards = "certShards" in rest ? rest.certShards : 0;
        it(`createNamespace ${createNamespace}, ${workloadKind}, ${shards} certificate Secret(s): ${want.length} objects`, () => {
            const secretNames = [...base.secretNames, ...Array.from({ length: shards }, (_, k) => `hollow-node-dev-certs-${k}`)];
            const refs = nodeClusterObjects({ ...base, secretNames, createNamespace, workloadKind });
            assert.deepEqual(refs.map((r) => `${r.kind} ${r.namespace ?? ""}/${r.name}`), want);
            assert.equal(refs.find((r) => r.kind === workloadKind)?.apiVersion, workloadKind === "ReplicationController" ? "v1" : "apps/v1");
        });
    }
    it("predicts Node names for StatefulSet ordinals only", () => {
        assert.deepEqual(expectedNodeNames("StatefulSet", "hollow-node-dev", 4), { prefix: "hollow-node-dev-", count: 4 });
        assert.equal(expectedNodeNames("Deployment", "hollow-node-dev", 4).count, 0);
    });
    it("describes an owner by labels and field managers", () => {
        assert.equal(ownerText({ labels: { team: "a" }, managers: ["kubectl-create"] }, KEY),
            `labels team=a (no ${KEY} label); managed by kubectl-create`);
        assert.equal(ownerText({ labels: { [KEY]: "kubemark.other" }, managers: [] }, KEY),
            `labels ${KEY}=kubemark.other (${KEY}=kubemark.other, another stack's); managed by (no field managers)`);
    });
});

describe("ownershipProblems", () => {
    const cases: { what: string; setup: (node: FakeCluster, target: FakeCluster) => void; req?: Partial<OwnershipRequest>; want: RegExp[] }[] = [
        { what: "free names pass", setup: () => undefined, want: [] },
        { what: "this stack's own objects pass (second or interrupted up)", setup: (node, target) => {
            node.addObject({ kind: "Namespace", name: "kubemark-dev" }, { [KEY]: MINE });
            node.addObject({ kind: "Secret", namespace: "kubemark-dev", name: "hollow-node-dev-kubeconfig" }, { [KEY]: MINE });
            target.addNode("hollow-node-dev-0", { [KEY]: MINE });
        }, want: [] },
        { what: "a foreign namespace is refused with owner and remedy", setup: (node) => {
            node.addObject({ kind: "Namespace", name: "kubemark-dev" }, { team: "a" }, ["kubectl-create"]);
        }, want: [/^Namespace kubemark-dev already exists in the node cluster \(https:\/\/node\.test\) and is not this stack's \(kubemark-pulumi\/stack=kubemark\.dev\): labels team=a .*managed by kubectl-create.*delete it with everything in it.*kubemark:createNamespace false.*Nothing was changed/] },
        { what: "another stack's Secret is refused", setup: (node) => {
            node.addObject({ kind: "Secret", namespace: "kubemark-dev", name: "hollow-node-dev-kubeconfig" }, { [KEY]: "kubemark.other" });
        }, want: [/^Secret kubemark-dev\/hollow-node-dev-kubeconfig already exists .*another stack's.*kubectl delete -n kubemark-dev secret hollow-node-dev-kubeconfig/] },
        { what: "each foreign object is listed, all at once", setup: (node) => {
            node.addObject({ kind: "Namespace", name: "kubemark-dev" }, {});
            node.addObject({ kind: "StatefulSet", namespace: "kubemark-dev", name: "hollow-node-dev" }, {});
        }, want: [/^Namespace kubemark-dev/, /^StatefulSet kubemark-dev\/hollow-node-dev/] },
        { what: "unlabelled Nodes with the kubelets' names are refused; others are not", setup: (_node, target) => {
            target.addNode("hollow-node-dev-1", {});
            target.addNode("hollow-node-dev-7", {});
            target.addNode("hollow-node-dev-01", {});
            target.addNode("hollow-node-dev-30-0", {});
            target.addNode("real-worker", {});
        }, want: [/^1 Node\(s\) .* target cluster \(https:\/\/target\.test\) .*: hollow-node-dev-1\. Those kubelets would adopt/] },
        { what: "with several nodes per pod, unlabelled Nodes named <pod>-<k> (the last pod's too) are refused", setup: (_node, target) => {
            for (const name of ["hollow-node-dev-0-1", "hollow-node-dev-last-0-0", "hollow-node-dev-last-0-1", "hollow-node-dev-1", "hollow-node-dev-0-2"]) {
                target.addNode(name, {});
            }
        }, req: { nodeCount: 3, nodesPerPod: 2 },
        want: [/^2 Node\(s\) .*: hollow-node-dev-0-1, hollow-node-dev-last-0-0\. Those kubelets would adopt/] },
        { what: "with pools, unlabelled Nodes of every pool's and zone's names are refused; the flat prefix then claims none", setup: (_node, target) => {
            for (const name of ["hollow-node-dev-gpu-1", "hollow-node-dev-general-zone-a-0-1", "hollow-node-dev-general-zone-b-1-0", "hollow-node-dev-0", "hollow-node-dev-gpu-2"]) {
                target.addNode(name, {});
            }
        }, req: { nodeCount: 0, nodeGroups: [{ workloadName: "hollow-node-dev-gpu", replicas: 2, nodesPerPod: 1 },
            { workloadName: "hollow-node-dev-general-zone-a", replicas: 3, nodesPerPod: 2 }, { workloadName: "hollow-node-dev-general-zone-b", replicas: 3, nodesPerPod: 2 }] },
        want: [/^2 Node\(s\) .*: hollow-node-dev-general-zone-a-0-1, hollow-node-dev-gpu-1\. Those kubelets would adopt/] },
        { what: "with createNamespace false, a missing namespace is refused", setup: () => undefined,
            req: { existingNamespace: "team-a", nodeObjects: nodeClusterObjects({ ...base, namespace: "team-a", createNamespace: false, workloadKind: "StatefulSet" }) },
            want: [/^Namespace team-a does not exist in the node cluster .*kubectl create namespace team-a/] },
        { what: "with createNamespace false, an existing foreign namespace is used as it is", setup: (node) => {
            node.addObject({ kind: "Namespace", name: "team-a" }, { team: "a" });
        }, req: { existingNamespace: "team-a", nodeObjects: nodeClusterObjects({ ...base, namespace: "team-a", createNamespace: false, workloadKind: "StatefulSet" }) },
        want: [] },
        { what: "target objects are checked in the target", setup: (_node, target) => {
            target.addObject({ kind: "ServiceAccount", namespace: "kubemark-dev", name: "hollow" }, {});
        }, req: { targetObjects: [{ apiVersion: "v1", kind: "ServiceAccount", namespace: "kubemark-dev", name: "hollow" }] },
        want: [/^ServiceAccount kubemark-dev\/hollow already exists in the target cluster/] },
    ];
    for (const c of cases) {
        it(c.what, async () => {
            const node = new FakeCluster("https://node.test");
            const target = new FakeCluster("https://target.test");
            c.setup(node, target);
            const problems = await ownershipProblems(node, target, request(c.req));
            assert.equal(problems.length, c.want.length, problems.join("\n"));
            c.want.forEach((re, i) => assert.match(problems[i], re));
        });
    }
});

describe("OwnershipGuardProvider", () => {
    const inputs = (over: Partial<OwnershipGuardInputs> = {}): OwnershipGuardInputs => ({
        ...request(), providerVersion: OWNERSHIP_PROVIDER_VERSION, nodeKubeconfig: "node", targetKubeconfig: "target", ...over,
    });
    const clusters = () => {
        const node = new FakeCluster("https://node.test");
        const target = new FakeCluster("https://target.test");
        const provider = new OwnershipGuardProvider((kc) => (kc === "node" ? node : target));
        return { node, target, provider };
    };

    it("check refuses a foreign object with a reason and no property, so the engine stops before creating anything", async () => {
        const { node, provider } = clusters();
        node.addObject({ kind: "Namespace", name: "kubemark-dev" }, { team: "a" });
        const result = await provider.check({}, inputs());
        assert.equal(result.failures?.length, 1);
        assert.equal(result.failures![0].property, "");
        assert.match(result.failures![0].reason, /^Namespace kubemark-dev already exists/);
    });

    it("check runs although its own serialized code (__provider) holds the unknown marker", async () => {
        const { node, provider } = clusters();
        node.addObject({ kind: "Namespace", name: "kubemark-dev" }, { team: "a" });
        const withCode = { ...inputs(), __provider: "exports.handler = ... '04da6b54-80e4-46f7-96ec-b56ff0331ba9' ..." } as OwnershipGuardInputs;
        assert.equal((await provider.check({}, withCode)).failures?.length, 1);
    });

    it("check waits for up when an input is still unknown in a preview", async () => {
        const { node, target, provider } = clusters();
        const result = await provider.check({}, inputs({ targetKubeconfig: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" }));
        assert.deepEqual(result.failures ?? [], []);
        assert.deepEqual([...node.calls, ...target.calls], []);
    });

    it("check does not look again at claims already in state, and looks at changed ones", async () => {
        const { node, provider } = clusters();
        node.addObject({ kind: "Namespace", name: "kubemark-dev" }, { team: "a" });
        assert.deepEqual((await provider.check(inputs(), inputs())).failures ?? [], []);
        assert.equal(node.calls.length, 0, "no API call for an unchanged claim");
        const wider = await provider.check(inputs(), inputs({ nodeCount: 5 }));
        assert.equal(wider.failures?.length, 1);
    });

    it("check names the unreachable cluster and changes nothing", async () => {
        const { target, provider } = clusters();
        target.down = true;
        const result = await provider.check({}, inputs());
        assert.equal(result.failures?.length, 1);
        assert.match(result.failures![0].reason, /free in the target cluster: no answer from https:\/\/target\.test.*run the command again/);
        assert.ok(!target.calls.some((c) => c.startsWith("delete")));
    });

    it("diff changes on new claims or credentials, not otherwise; delete touches nothing", async () => {
        const { node, target, provider } = clusters();
        assert.equal((await provider.diff("id", inputs(), inputs())).changes, false);
        assert.equal((await provider.diff("id", inputs(), inputs({ nodeCount: 4 }))).changes, true);
        assert.equal((await provider.diff("id", inputs(), inputs({ targetKubeconfig: "target2" }))).changes, true);
        await provider.delete();
        assert.deepEqual([...node.calls, ...target.calls], []);
    });
});
