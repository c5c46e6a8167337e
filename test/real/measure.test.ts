// npm run measure against real API servers: a stack brought up with the real CLI, a load end to end, interruptions.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { STACK_LABEL_KEY } from "../../components/config/settings";
import { loadNamespace } from "../../measure/plan";
import { ControlPlane, missingTools } from "../harness/controlPlane";
import { clients, fakeKubelets as playKubelets } from "../harness/fakeKubelets";
import { startPair, stopPair } from "../harness/clusterPair";
import {
    giveCapacity, measure, playHeartbeats, playLoadKubelets, startMeasure, startNodeLifecycle, startWorkloadControllers, tempDir, waitForOutput,
} from "../harness/measureLoad";
import { pulumi } from "../harness/pulumiCli";

const skip = missingTools();
const STACK = "measured";
const SELECTOR = `${STACK_LABEL_KEY}=kubemark.${STACK}`;
const NS = loadNamespace(STACK);
/** Small and quick: 3 hollow Nodes × 4 pods, held 3 s (or as long as a test needs to interrupt it). */
const small = (hold = 3) => ["--stack", STACK, "--pods-per-node", "4", "--hold-seconds", String(hold), "--metrics-every-seconds", "2",
    "--phase-timeout-seconds", "120"];
const SMALL = small();
/** The test target's node-monitor-grace-period: v1.31's 40 s would make the churn test slow. */
const GRACE_SECONDS = 8;

describe("npm run measure against real API servers", { skip }, () => {
    let nodeCluster: ControlPlane;
    let target: ControlPlane;
    let project: string;
    let logs: string;
    const stops: (() => Promise<void>)[] = [];

    const namespaces = async () => (await clients(target).core.listNamespace({ labelSelector: "kubemark-pulumi/measure=true" })).items.map((n) => n.metadata!.name!);
    const waitGone = async () => {
        for (let i = 0; i < 120 && (await namespaces()).length > 0; i++) {
            await new Promise((r) => setTimeout(r, 500));
        }
        return namespaces();
    };

    before(async () => {
        ({ nodeCluster, target, project } = await startPair());
        logs = tempDir("measure-logs");
        assert.equal((await pulumi(project, STACK, ["stack", "init"])).code, 0);
        for (const [k, v] of [["kubernetesVersion", "v1.31.0"], ["image", "127.0.0.1:5000/kubemark:v1.31.0"], ["replicas", "3"],
            ["nodeKubeconfig", nodeCluster.kubeconfigFile], ["targetKubeconfig", target.kubeconfigFile],
            ["readyTimeoutSeconds", "120"], ["reaperTimeoutSeconds", "30"]]) {
            assert.equal((await pulumi(project, STACK, ["config", "set", k, v])).code, 0, `config set ${k}`);
        }
        stops.push(playKubelets(nodeCluster, target, `kubemark-${STACK}`));
        const up = await pulumi(project, STACK, ["up", "--yes", "--skip-preview"]);
        assert.equal(up.code, 0, up.out);
        await giveCapacity(target, SELECTOR);
        stops.push(startWorkloadControllers(target, logs), playLoadKubelets(target, "kubemark-measure-"));
    });

    after(async () => {
        for (const stop of stops.reverse()) {
            await stop();
        }
        if (project) {
            await pulumi(project, STACK, ["destroy", "--yes", "--skip-preview"]);
        }
        await stopPair({ nodeCluster, target, project });
        fs.rmSync(logs, { recursive: true, force: true });
    });

    it("refuses bad options before reading anything, naming option, value and what is accepted", async () => {
        const run = await measure(project, ["--stack", STACK, "--pods-per-second", "50", "--kills", "2"]);
        assert.equal(run.code, 2, run.out);
        assert.match(run.out, /--pods-per-second "50": accepted: a number from 0.1 to 20/);
        assert.match(run.out, /--kills "2": applies to --scenario churn only, not load/);
        assert.doesNotMatch(run.out, /reading stack/);
    });

    it("refuses a stack that is not there, and one whose hollow Nodes are not all Ready", async () => {
        const none = await measure(project, ["--stack", "nosuch"]);
        assert.equal(none.code, 1);
        assert.match(none.out, /cannot read stack nosuch/);
        const { core } = clients(target);
        const name = `hollow-node-${STACK}-1`;
        const node = await core.readNode({ name });
        const ready = node.status!.conditions!.find((c) => c.type === "Ready")!;
        ready.status = "False";
        await core.replaceNodeStatus({ name, body: node });
        try {
            const down = await measure(project, SMALL);
            assert.equal(down.code, 1, down.out);
            assert.match(down.out, /stack measured is not up: 2 of its 3 hollow Nodes are Ready/);
            assert.deepEqual(await namespaces(), [], "nothing created");
        } finally {
            const back = await core.readNode({ name });
            back.status!.conditions!.find((c) => c.type === "Ready")!.status = "True";
            await core.replaceNodeStatus({ name, body: back });
        }
    });

    it("a small load end to end: every SLI reported beside its SLO, charts drawn, nothing left", { timeout: 600_000 }, async () => {
        const out = tempDir("measure-report");
        const run = await measure(project, [...SMALL, "--output", out]);
        console.log(run.out.split("\n").filter((l) => /PASS|FAIL|report written| {4}/.test(l)).join("\n"));
        assert.equal(run.code, 0, run.out);
        assert.match(run.out, new RegExp(`report written to ${out}/`));
        const report = JSON.parse(fs.readFileSync(path.join(out, "report.json"), "utf8"));
        const rows: { sli: string; value?: number; atMost?: number; verdict: string; note?: string }[] = report.rows;
        const find = (re: RegExp) => rows.find((r) => re.test(r.sli));
        const p99 = find(/^pod startup latency p99/)!;
        assert.equal(p99.atMost, 5);
        assert.ok(p99.value !== undefined && p99.value >= 0 && p99.value < 30, JSON.stringify(p99));
        assert.ok(find(/^scheduling throughput, average/)!.value! > 0);
        assert.ok(find(/^scheduling throughput, max/)!.value! > 0);
        assert.ok(find(/^pods created \+ deleted per second/)!.value! <= 20);
        const api = rows.filter((r) => r.sli.startsWith("API call latency p99"));
        assert.ok(api.some((r) => /POST apps\/deployments \(resource\)/.test(r.sli) && r.atMost === 1), api.map((r) => r.sli).join("\n"));
        assert.ok(api.some((r) => /LIST .*\(cluster\)/.test(r.sli) && r.atMost === 30));
        assert.ok(!api.some((r) => /^API call latency p99: (WATCH|CONNECT)/.test(r.sli)), "WATCH and CONNECT are excluded");
        assert.equal(find(/^hollow Nodes seen NotReady/)!.value, 0);
        assert.match(find(/^hollow pods' CPU/)!.note!, /not readable/, "the test's node cluster has no kubelet to ask");
        assert.ok(find(/^load generator's own CPU/)!.value! > 0);
        assert.equal(report.load.startup.counted, 12 + 7, "12 created; 7 more brought back after the scale-down (5+5+2 to 2+2+1)");
        assert.deepEqual(report.load.phases.map((p: { phase: string }) => p.phase), ["create", "hold", "scale down", "scale up", "delete"]);
        const md = fs.readFileSync(path.join(out, "report.md"), "utf8");
        assert.match(md, /\| pod startup latency p99 \(create → observed Running\) \| [\d.]+ s \| ≤ 5 s \| (PASS|FAIL) \|/);
        assert.match(md, /whole-second resolution/);
        for (const svg of ["pod-startup-latency.svg", "pods-over-time.svg", "scheduling-throughput.svg", "api-latency.svg"]) {
            assert.match(fs.readFileSync(path.join(out, svg), "utf8"), /^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/, svg);
        }
        assert.doesNotMatch(fs.readFileSync(path.join(out, "report.json"), "utf8"), /token:|client-key-data/, "no credentials in the report");
        console.log(`load of 12 pods: p99 ${p99.value} s, throughput avg ${find(/average/)!.value}/s, ${api.length} API call kinds, ` +
            `generator ${find(/generator/)!.value} cores, ${report.load.durationSeconds}s`);
        assert.deepEqual(await waitGone(), [], "the run's namespace is removed");
        fs.rmSync(out, { recursive: true, force: true });
    });

    it("Ctrl-C midway: the run removes what it created and exits 130, with a partial report", { timeout: 600_000 }, async () => {
        const out = tempDir("measure-int");
        const run = startMeasure(project, [...small(300), "--output", out]);
        await waitForOutput(run, /hold: 12 pods/, 180_000);
        assert.deepEqual(await namespaces(), [NS]);
        run.signal("SIGINT");
        const done = await run.done;
        assert.equal(done.code, 130, done.out);
        assert.match(done.out, /interrupted: stopping, then removing what this run created/);
        assert.match(done.out, new RegExp(`namespace ${NS} and everything in it removed`));
        assert.deepEqual(await namespaces(), [], "nothing of the run is left");
        assert.match(fs.readFileSync(path.join(out, "report.md"), "utf8"), /: INTERRUPTED/);
        fs.rmSync(out, { recursive: true, force: true });
    });

    it("killed midway (no cleanup): the next run removes the leftovers first, then leaves nothing", { timeout: 600_000 }, async () => {
        const crashed = startMeasure(project, [...small(300), "--output", tempDir("measure-crash")]);
        await waitForOutput(crashed, /hold: 12 pods/, 180_000);
        crashed.signal("SIGKILL");
        await crashed.done;
        assert.deepEqual(await namespaces(), [NS], "the crashed run left its namespace");
        const left = (await clients(target).core.listNamespacedPod({ namespace: NS })).items.length;
        assert.ok(left > 0, "and its pods");
        const out = tempDir("measure-after");
        const next = await measure(project, [...SMALL, "--output", out]);
        assert.equal(next.code, 0, next.out);
        assert.match(next.out, new RegExp(`removing what an interrupted run left: namespace ${NS} \\(created .* by [^)]+/\\d+\\)`));
        const report = JSON.parse(fs.readFileSync(path.join(out, "report.json"), "utf8"));
        assert.deepEqual(report.leftoversRemoved, [NS]);
        assert.deepEqual(await waitGone(), []);
        const pods = await clients(target).core.listPodForAllNamespaces({ labelSelector: "kubemark-pulumi/measure-run" });
        assert.deepEqual(pods.items.map((p) => p.metadata!.name), [], "no pod of either run anywhere");
        const deployments = await clients(target).apps.listDeploymentForAllNamespaces({ labelSelector: "kubemark-pulumi/measure-run" });
        assert.deepEqual(deployments.items.map((d) => d.metadata!.name), []);
        console.log(`leftovers of a killed run (${left} pods) removed first; next run exit ${next.code}, ${left} pods gone`);
        fs.rmSync(out, { recursive: true, force: true });
    });

    it("churn beside a load: killed hollow Nodes go NotReady, the load's pods there are evicted, all come back, none orphaned", { timeout: 600_000 }, async () => {
        const stopBeats = playHeartbeats(nodeCluster, target, `kubemark-${STACK}`);
        // Fresh Leases first: the node lifecycle controller would find the registration's heartbeats long stale.
        await new Promise((r) => setTimeout(r, 4000));
        const stopLifecycle = startNodeLifecycle(target, logs, GRACE_SECONDS);
        try {
            const load = startMeasure(project, [...small(300), "--toleration-seconds", "2", "--output", tempDir("measure-beside")]);
            await waitForOutput(load, /hold: 12 pods/, 180_000);
            const out = tempDir("measure-churn");
            const run = await measure(project, ["--stack", STACK, "--scenario", "churn", "--kills", "2", "--kills-per-minute", "20",
                "--down-seconds", String(GRACE_SECONDS + 7), "--recover-timeout-seconds", "90", "--node-poll-seconds", "1", "--output", out]);
            load.signal("SIGINT");
            assert.equal((await load.done).code, 130);
            assert.equal(run.code, 0, run.out);
            console.log(run.out.split("\n").filter((l) => /killed|NotReady|taint|deleting its replacement|released|Ready again/.test(l)).join("\n"));
            assert.match(run.out, new RegExp(`a load run \\([^)]+\\) is using namespace ${NS}: its pods' evictions are recorded`));
            const churn = JSON.parse(fs.readFileSync(path.join(out, "report.json"), "utf8")).churn;
            assert.equal(churn.workloadKind, "StatefulSet");
            assert.deepEqual(churn.killed.map((k: { node: string }) => k.node), [`hollow-node-${STACK}-0`, `hollow-node-${STACK}-2`]);
            for (const k of churn.killed) {
                assert.ok(k.notReadySeconds > GRACE_SECONDS - 3 && k.notReadySeconds < GRACE_SECONDS + 7, `${k.node}: NotReady after ${k.notReadySeconds}s`);
                assert.ok(k.taints.some((t: { key: string; effect: string }) => t.key === "node.kubernetes.io/unreachable" && t.effect === "NoExecute"),
                    JSON.stringify(k.taints));
                assert.ok(k.readySeconds > GRACE_SECONDS + 7, `${k.node}: Ready again after ${k.readySeconds}s, before its down window ended`);
                assert.ok(k.leaseGapSeconds > GRACE_SECONDS + 7, `${k.node}: Lease gap ${k.leaseGapSeconds}s`);
                console.log(`churn ${k.node}: NotReady after ${k.notReadySeconds}s (API ${k.notReadyApiSeconds}s), ` +
                    `taints ${k.taints.map((t: { key: string; effect: string; seconds: number }) => `${t.key}:${t.effect}@${t.seconds}s`).join(" ")}, ` +
                    `${k.evictions.length} evicted, Lease gap ${k.leaseGapSeconds}s, Ready after ${k.readySeconds}s`);
            }
            assert.ok(churn.killed.some((k: { evictions: unknown[] }) => k.evictions.length > 0), "the load's pods on a killed Node were evicted");
            // A StatefulSet's killed pod is held terminating, not chased: no replacement appears to delete.
            assert.equal(churn.replacementsDeleted, 0, `${churn.replacementsDeleted} replacements deleted`);
            assert.equal(run.out.match(/\(held terminating\)/g)?.length, 2, "both kills hold their pod");
            assert.equal(run.out.match(/released hollow pod hollow-node-\S+: its StatefulSet brings it back/g)?.length, 2);
            assert.deepEqual(churn.final, { registered: 3, ready: 3, replicas: 3, stale: [] });
            assert.match(fs.readFileSync(path.join(out, "report.md"), "utf8"), /None orphaned/);
            assert.deepEqual(await waitGone(), [], "the load's namespace is removed after its Ctrl-C");
        } catch (e) {
            console.log(`node lifecycle controller's log:\n${fs.readFileSync(path.join(logs, "node-lifecycle.log"), "utf8").split("\n").slice(-40).join("\n")}`);
            throw e;
        } finally {
            await stopLifecycle();
            await stopBeats();
        }
    });
});
