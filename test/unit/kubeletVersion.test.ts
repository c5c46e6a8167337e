// up waits for the stack's release: Nodes count as Ready once they report its kubelet version (an in-place upgrade).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { STACK_LABEL_KEY } from "../../components/config/settings";
import { nodesFromTable } from "../../components/kube/clusterApi";
import { HollowNodeSyncInputs, HollowNodeSyncProvider, SYNC_PROVIDER_VERSION } from "../../components/reaper/provider";
import { runsRelease } from "../../components/reaper/sync";
import { FakeClock, FakeCluster } from "../harness/fakeCluster";

const MINE = { [STACK_LABEL_KEY]: "kubemark.v1-37" };
const POD_LABELS = { "app.kubernetes.io/instance": "hollow-node-v1-37" };
const NS = "kubemark-v1-37";

function inputs(over: Partial<HollowNodeSyncInputs> = {}): HollowNodeSyncInputs {
    return {
        providerVersion: SYNC_PROVIDER_VERSION, targetKubeconfig: "target", nodeKubeconfig: "node",
        selector: `${STACK_LABEL_KEY}=kubemark.v1-37`, selectorKey: STACK_LABEL_KEY, namespace: NS,
        podSelector: "app.kubernetes.io/instance=hollow-node-v1-37", replicas: 3, nodesPerPod: 1, readyTimeoutSeconds: 120,
        sweepTimeoutSeconds: 60, workloadFingerprint: "f", kubeletVersion: "v1.37.2", ...over,
    };
}

function world(versions: (string | undefined)[]) {
    const target = new FakeCluster("https://target.test:6443");
    const node = new FakeCluster("https://node.test:6443");
    versions.forEach((v, i) => {
        target.addNode(`n${i}`, MINE);
        target.nodes.get(`n${i}`)!.kubeletVersion = v;
        node.addPod(`n${i}`, NS, POD_LABELS);
    });
    const clock = new FakeClock();
    const logs: string[] = [];
    const provider = new HollowNodeSyncProvider((kc) => (kc === "target" ? target : node), clock, (m) => logs.push(m));
    return { target, clock, logs, provider };
}

describe("runsRelease", () => {
    const cases: [string | undefined, string | undefined, boolean][] = [
        ["v1.37.2", "v1.37.2", true],
        ["v1.37.2-dirty", "v1.37.2", true],
        ["v1.37.2+abc123", "v1.37.2", true],
        ["v1.36.5", "v1.37.2", false],
        ["v1.37.20", "v1.37.2", false],
        [undefined, "v1.37.2", false],
        ["v1.36.5", undefined, true],
        [undefined, undefined, true],
    ];
    for (const [reported, release, want] of cases) {
        it(`${reported ?? "no version"} ${want ? "runs" : "does not run"} ${release ?? "any release"}`, () => {
            assert.equal(runsRelease(reported, release), want);
        });
    }
});

describe("nodesFromTable", () => {
    it("reads each Node's kubelet version from the VERSION column", () => {
        const table = {
            kind: "Table", columnDefinitions: ["Name", "Status", "Roles", "Age", "Version"].map((name) => ({ name })),
            rows: [{ cells: ["a", "Ready", "<none>", "1m", "v1.37.2"] }, { cells: ["b", "NotReady", "<none>", "1m", "v1.36.5"] }],
        };
        assert.deepEqual(nodesFromTable(table), [{ name: "a", ready: true, kubeletVersion: "v1.37.2" }, { name: "b", ready: false, kubeletVersion: "v1.36.5" }]);
    });
});

describe("HollowNodeSync across a release change", () => {
    it("counts a Ready Node only once it reports the stack's release, and says which Nodes still run another", async () => {
        const w = world(["v1.36.5", "v1.36.5", "v1.36.5"]);
        // The rollout replaces one pod every 10 s: its Node then reports the new kubelet.
        w.clock.onSleep = (t) => {
            const upgraded = Math.floor((t - 1_000_000) / 10_000);
            for (let i = 0; i < Math.min(upgraded, 3); i++) {
                w.target.nodes.get(`n${i}`)!.kubeletVersion = "v1.37.2";
            }
        };
        const { outs } = await w.provider.create(inputs());
        assert.equal(outs.readyNodes, 3);
        assert.ok(w.logs.some((l) => /^1\/3 hollow Nodes Ready, 3 registered; not yet on v1\.37\.2: 2 on v1\.36\.5/.test(l)), w.logs.join("\n"));
        assert.ok(w.logs.some((l) => /^3\/3 hollow Nodes Ready after 3\ds/.test(l)), w.logs.join("\n"));
    });

    it("fails at the bound naming the versions the Nodes report when the image runs another release", async () => {
        const w = world(["v1.36.5", "v1.36.5", "v1.37.2"]);
        await assert.rejects(w.provider.create(inputs({ readyTimeoutSeconds: 30 })),
            /only 1\/3 hollow Nodes Ready .*not yet on v1\.37\.2: 2 on v1\.36\.5.*another release than kubemark:kubernetesVersion/);
    });

    it("counts every Ready Node in state written before the version was an input", async () => {
        const w = world(["v1.36.5", "v1.37.2", undefined]);
        const { kubeletVersion: _dropped, ...old } = inputs();
        const { outs } = await w.provider.create(old);
        assert.equal(outs.readyNodes, 3);
    });
});
