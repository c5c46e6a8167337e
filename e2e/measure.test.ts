// End to end in the lab: npm run measure runs CL2's load on 10 real hollow Nodes of the newest release, churns two.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { NEWEST_TESTED } from "../components/config/releases";
import { STACK_LABEL_KEY } from "../components/config/settings";
import { buildImage } from "../lab/buildImage";
import { measure, tempDir } from "../test/harness/measureLoad";
import { copyProject, pulumi } from "../test/harness/pulumiCli";
import { clientsOf, DOCKER_ENV, kubeconfigFile, lab, labMissing, REGISTRY } from "../lab/lab";
import { labMetricsArgs } from "../lab/constants";
import { SETTLE_SECONDS } from "../measure/scenarios/churn/verdict";

const NEWEST = NEWEST_TESTED.text;

const skip = labMissing();
const STACK = "lab";
const SELECTOR = `${STACK_LABEL_KEY}=kubemark.${STACK}`;
const figures: string[] = [];
const report = (line: string) => {
    figures.push(line);
    console.log(`[e2e] ${line}`);
};

interface Row { sli: string; value?: number; atMost?: number; verdict: string; note?: string }

describe(`npm run measure in the lab: load and churn on real hollow kubelets of ${NEWEST}`, { skip }, () => {
    let project: string;
    const cli = (args: string[]) => pulumi(project, STACK, args);

    before(async () => {
        const started = await lab("up", "--target", NEWEST);
        assert.equal(started.code, 0, started.out);
        const image = await buildImage(NEWEST, REGISTRY, { ...process.env, ...DOCKER_ENV });
        project = copyProject(["Pulumi.lab.yaml"]);
        assert.equal((await cli(["stack", "init"])).code, 0);
        for (const [k, v] of [["nodeKubeconfig", kubeconfigFile("node")], ["targetKubeconfig", kubeconfigFile("target")], ["image", image.digestRef]]) {
            assert.equal((await cli(["config", "set", k, v])).code, 0, `config set ${k}`);
        }
        const up = await cli(["up", "--yes", "--skip-preview"]);
        assert.equal(up.code, 0, up.out);
        report(`pulumi up, 10 hollow nodes: ${up.seconds.toFixed(1)}s`);
    });

    after(async () => {
        console.log(`\n[e2e] figures:\n${figures.map((f) => `  ${f}`).join("\n")}`);
        if (project) {
            await cli(["destroy", "--yes", "--skip-preview"]);
            fs.rmSync(project, { recursive: true, force: true });
        }
        await lab("down");
    });

    it("CL2's load at 10 hollow Nodes × 30 pods: every SLI beside its SLO, the control plane's health, nothing left", { timeout: 1_800_000 }, async () => {
        const out = tempDir("measure-load");
        const run = await measure(project, ["--stack", STACK, ...labMetricsArgs(), "--output", out]);
        assert.ok([0, 3, 4].includes(run.code), `exit ${run.code} (3: an SLO failed, 4: the host was saturated; findings, not errors):\n${run.out}`);
        const json = JSON.parse(fs.readFileSync(path.join(out, "report.json"), "utf8"));
        const rows: Row[] = json.rows;
        for (const sli of [/^pod startup latency p99 \(latency pods\)/, /^pod startup latency p90 \(latency pods\)/, /^pod startup latency p50 \(latency pods\)/,
            /^scheduler throughput \(burst\), max/, /^load pods' startup p99, watch only/, /^pods created \+ deleted per second/,
            /^API call latency p99: POST pods \(resource\)/, /^API call latency p99: POST statefulsets/, /^API call latency p99: PUT daemonsets/,
            /^hollow Nodes seen NotReady/, /^hollow pods' CPU/, /^hollow pods' memory/, /^load generator's own CPU/,
            /^kube-apiserver CPU/, /^etcd CPU/, /^kube-scheduler CPU/, /^kube-controller-manager CPU/, /^etcd WAL fsync p99/, /^etcd backend commit p99/,
            /^etcd DB size/, /^scheduler pod scheduling SLI p99/, /^host CPU busy/]) {
            const row = rows.find((r) => sli.test(r.sli));
            assert.ok(row && row.value !== undefined, `${sli} missing or without a value: ${JSON.stringify(row)}\n${rows.map((r) => r.sli).join("\n")}`);
            assert.match(run.out, new RegExp(row.sli.replace(/[()+.*?[\]^$|\\]/g, "\\$&")), "printed too");
        }
        for (const r of rows.filter((x) => x.verdict !== "n/a" || /startup|throughput|CPU|memory|etcd|host/.test(x.sli))) {
            report(`load 10x30: ${r.sli}: ${r.value} ${r.atMost === undefined ? "" : `(SLO <= ${r.atMost}) ${r.verdict}`}`);
        }
        report(`load 10x30: verdict ${json.verdict}${json.brokenPreconditions.length > 0 ? ` (${json.brokenPreconditions.join("; ")})` : ""}, ` +
            `seed ${json.load.plan.seed}, burst ${json.load.throughput?.pods} pods, ${json.load.durationSeconds}s`);
        assert.equal(rows.find((r) => /^hollow Nodes seen NotReady/.test(r.sli))!.value, 0);
        assert.equal(json.load.latency.count, 10, "min(500, 10 hollow Nodes)");
        for (const svg of ["pod-startup-latency.svg", "pods-over-time.svg", "scheduling-throughput.svg", "api-latency.svg"]) {
            assert.ok(fs.existsSync(path.join(out, svg)), svg);
        }
        const namespaces = (await clientsOf("target").core.listNamespace({ labelSelector: "kubemark-pulumi/measure=true" })).items;
        assert.deepEqual(namespaces.map((n) => n.metadata!.name), [], "the load's namespaces are removed");
    });

    it("churn of 2 hollow nodes: each goes NotReady and comes back; exactly 10 Nodes, none orphaned", { timeout: 1_200_000 }, async () => {
        const out = tempDir("measure-churn");
        const run = await measure(project, ["--stack", STACK, "--scenario", "churn", ...labMetricsArgs(), "--output", out]);
        console.log(run.out);
        assert.equal(run.code, 0, run.out);
        const json = JSON.parse(fs.readFileSync(path.join(out, "report.json"), "utf8"));
        const churn = json.churn;
        assert.equal(churn.killed.length, 2);
        const held = (json.rows as Row[]).find((r) => r.sli === "kills that did not hold or did not take")!;
        assert.deepEqual([held.value, held.verdict], [0, "pass"], JSON.stringify(held));
        for (const k of churn.killed) {
            // A renewal sent just before the kill lands just after it (the churn's own verdict allows the same settle).
            const inside = k.renewals.filter((t: number) => t > SETTLE_SECONDS && t < k.heldSeconds);
            assert.deepEqual(inside, [], `${k.node}: a Lease renewal inside its window (held ${k.heldSeconds}s): ${k.renewals}`);
            assert.ok(k.heldSeconds >= 90, `${k.node}: held ${k.heldSeconds}s`);
            assert.ok(k.notReadySeconds !== undefined, `${k.node} never seen NotReady: ${k.outcome}`);
            assert.ok(k.readySeconds !== undefined, `${k.node} not back: ${k.outcome}`);
            report(`churn: ${k.node} NotReady after ${k.notReadySeconds}s (API ${k.notReadyApiSeconds}s), taints ` +
                `${k.taints.map((t: { key: string; effect: string; seconds: number }) => `${t.key}:${t.effect}@${t.seconds}s`).join(" ") || "none"}, ` +
                `Lease gap ${k.leaseGapSeconds}s, Ready again after ${k.readySeconds}s`);
        }
        assert.deepEqual(churn.final.stale, [], "a StatefulSet stack has no orphan");
        assert.equal(churn.final.ready, 10);
        const nodes = (await clientsOf("target").core.listNode({ labelSelector: SELECTOR })).items;
        assert.equal(nodes.length, 10);
        assert.equal((await clientsOf("node").core.listNamespacedPod({ namespace: `kubemark-${STACK}` })).items.length, 10);
    });
});
