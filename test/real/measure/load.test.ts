// npm run measure against real API servers: a stack brought up with the real CLI, a load end to end, interruptions.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { STACK_LABEL_KEY } from "../../../components/config/settings";
import { loadNamespace } from "../../../measure/objects";
import { ControlPlane, missingTools } from "../../harness/controlPlane";
import { clients } from "../../harness/fakeKubelets";
import { startPair, stopPair } from "../../harness/clusterPair";
import {
    cl2SmallLoad,
    giveCapacity,
    measure,
    playLoadKubelets,
    startMeasure,
    startWorkloadControllers,
    tempDir,
    waitForOutput,
} from "../../harness/measureLoad";
import { measureNamespacesGone, upStack } from "../../harness/measureLab";
import { pulumi } from "../../harness/pulumiCli";

const skip = missingTools();
const STACK = "measured";
const SELECTOR = `${STACK_LABEL_KEY}=kubemark.${STACK}`;
const NS = loadNamespace(STACK);
/** Small and quick: the density of 3 hollow Nodes × 4 pods, held 3 s (or as long as a test needs to interrupt it). */
const small = (hold = 3) => [
    "--stack",
    STACK,
    "--scenario",
    "density",
    "--pods-per-node",
    "4",
    "--hold-seconds",
    String(hold),
    "--metrics-every-seconds",
    "2",
    "--phase-timeout-seconds",
    "120",
];
/** CL2's load in miniature: 30 pods over 3 hollow Nodes in groups of 4, 2 and 1, a burst of 60, 3 latency pods. */
const CL2_SMALL = cl2SmallLoad(STACK);
const SMALL = small();

describe("npm run measure against real API servers", { skip }, () => {
    let nodeCluster: ControlPlane;
    let target: ControlPlane;
    let project: string;
    let logs: string;
    const stops: (() => Promise<void>)[] = [];

    const namespaces = async () =>
        (await clients(target).core.listNamespace({ labelSelector: "kubemark-pulumi/measure=true" })).items.map(
            (n) => n.metadata!.name!,
        );
    const waitGone = () => measureNamespacesGone(target);

    before(async () => {
        ({ nodeCluster, target, project } = await startPair());
        logs = tempDir("measure-logs");
        await upStack({ nodeCluster, target, project, logs, stops }, STACK, [["replicas", "3"]]);
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

    const rowsOf = (out: string) => JSON.parse(fs.readFileSync(path.join(out, "report.json"), "utf8"));
    type Row = { sli: string; value?: number; atMost?: number; atLeast?: number; verdict: string; note?: string };

    it(
        "a small density end to end: CL2's latency pods judged, the density's pods beside, charts drawn, nothing left",
        { timeout: 600_000 },
        async () => {
            const out = tempDir("measure-report");
            const run = await measure(project, [...SMALL, "--output", out]);
            console.log(
                run.out
                    .split("\n")
                    .filter((l) => /PASS|FAIL|report written| {4}/.test(l))
                    .join("\n"),
            );
            assert.ok(run.code === 0 || run.code === 4, run.out);
            assert.match(run.out, new RegExp(`report written to ${out}/`));
            const report = rowsOf(out);
            const rows: Row[] = report.rows;
            const find = (re: RegExp) => rows.find((r) => re.test(r.sli));
            for (const p of ["p99", "p90", "p50"]) {
                const r = find(new RegExp(`^pod startup latency ${p} \\(latency pods\\)`))!;
                assert.equal(r.atMost, 5, p);
                assert.ok(r.value !== undefined && r.value >= 0 && r.value < 30, JSON.stringify(r));
            }
            assert.equal(report.density.latency.count, 3, "min(500, 3 hollow Nodes)");
            assert.equal(report.density.latency.startup.podStartup.count, 3);
            assert.equal(find(/^load pods' startup p99, watch only/)!.atMost, 3600);
            assert.ok(find(/^scheduling throughput of the density's pods, max/)!.value! > 0);
            assert.ok(find(/^pods created \+ deleted per second, busiest minute/)!.value! <= 20);
            const api = rows.filter((r) => r.sli.startsWith("API call latency p99"));
            // A create is scope "resource" in kube-apiserver's metrics: it names one object.
            assert.ok(
                api.some((r) => /POST deployments \(resource\)/.test(r.sli) && r.atMost === 1),
                api.map((r) => r.sli).join("\n"),
            );
            assert.ok(api.some((r) => /LIST .* \(cluster\)/.test(r.sli) && r.atMost === 30));
            assert.ok(
                api.some((r) => /apiserver_request_sli_duration_seconds/.test(r.note ?? "")),
                "the SLI histogram, v1.26+",
            );
            assert.ok(!api.some((r) => /^API call latency p99: WATCH/.test(r.sli)), "WATCH is left out");
            assert.equal(find(/^hollow Nodes seen NotReady/)!.value, 0);
            assert.match(
                find(/^hollow pods' CPU/)!.note!,
                /not readable/,
                "the test's node cluster has no kubelet to ask",
            );
            assert.ok(
                find(/^kube-apiserver CPU/)!.value! > 0,
                "the API server's own /metrics: process_cpu_seconds_total",
            );
            assert.equal(
                report.density.startup.counted,
                12 + 7,
                "12 created; 7 more brought back after the scale-down (5+5+2 to 2+2+1)",
            );
            assert.deepEqual(
                report.density.phases.map((p: { phase: string }) => p.phase),
                ["create", "hold", "latency pods", "latency pods deleted", "scale down", "scale up", "delete"],
            );
            const md = fs.readFileSync(path.join(out, "report.md"), "utf8");
            assert.match(md, /\| pod startup latency p99 \(latency pods\) \| [\d.]+ s \| ≤ 5 s \| (PASS|FAIL) \|/);
            assert.match(md, /## Control-plane health/);
            assert.match(md, /\| podsPerDeployment \| 5 \|/);
            assert.doesNotMatch(md, /\| kills \||\| output \| undefined/, "only the scenario's own options");
            for (const svg of [
                "pod-startup-latency.svg",
                "pods-over-time.svg",
                "scheduling-throughput.svg",
                "api-latency.svg",
            ]) {
                assert.match(
                    fs.readFileSync(path.join(out, svg), "utf8"),
                    /^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/,
                    svg,
                );
            }
            assert.doesNotMatch(
                fs.readFileSync(path.join(out, "report.json"), "utf8"),
                /token:|client-key-data|BEGIN .*PRIVATE KEY/,
                "no credentials",
            );
            console.log(
                `density of 12 pods: latency pods p99 ${find(/p99 \(latency pods\)/)!.value} s, ${api.length} API call kinds, ` +
                    `${report.density.durationSeconds}s`,
            );
            assert.deepEqual(await waitGone(), [], "the run's namespace is removed");
            fs.rmSync(out, { recursive: true, force: true });
        },
    );

    it(
        "CL2's load in miniature: every object kind, the burst sampled each second, latency pods, a seed that repeats the plan",
        { timeout: 600_000 },
        async () => {
            const out = tempDir("measure-cl2");
            const run = await measure(project, [...CL2_SMALL, "--seed", "42", "--output", out]);
            console.log(
                run.out
                    .split("\n")
                    .filter((l) => /PASS|FAIL|report written|load \(|seed| {4}/.test(l))
                    .join("\n"),
            );
            assert.ok([0, 3, 4].includes(run.code), run.out);
            assert.match(run.out, /seed 42 \(--seed 42 repeats this plan\)/);
            const report = rowsOf(out);
            const load = report.load;
            assert.equal(load.plan.seed, 42);
            for (const kind of ["Deployment", "StatefulSet", "Job", "DaemonSet", "Service", "ConfigMap", "Secret"]) {
                assert.ok(load.plan.counts[kind] > 0, `${kind}: ${JSON.stringify(load.plan.counts)}`);
            }
            assert.deepEqual(
                load.phases.map((p: { phase: string }) => p.phase),
                [
                    "setup",
                    "create",
                    "hold",
                    "scheduler throughput",
                    "scheduler throughput deleted",
                    "latency pods",
                    "latency pods deleted",
                    "scale and update",
                    "delete",
                    "teardown",
                ],
            );
            assert.equal(load.throughput.pods, 60);
            assert.ok(
                load.throughput.samples.length >= 1 && load.throughput.stats.max > 0,
                JSON.stringify(load.throughput),
            );
            const rows: Row[] = report.rows;
            const burst = rows.find((r) => /^scheduler throughput \(burst\), max/.test(r.sli))!;
            assert.equal(burst.atLeast, 100);
            assert.equal(load.latency.count, 3);
            const api = rows
                .filter((r) => r.sli.startsWith("API call latency p99"))
                .map((r) => r.sli)
                .join("\n");
            for (const call of [
                /POST statefulsets/,
                /POST jobs/,
                /POST daemonsets/,
                /POST configmaps/,
                /POST secrets/,
                /POST services/,
                /PUT daemonsets/,
            ]) {
                assert.match(api, call);
            }
            assert.match(fs.readFileSync(path.join(out, "report.md"), "utf8"), /Seed \*\*42\*\*/);
            const { scheduling } = clients(target);
            assert.deepEqual(
                (await scheduling.listPriorityClass({ labelSelector: "kubemark-pulumi/measure=true" })).items.map(
                    (p) => p.metadata!.name,
                ),
                [],
                "the run's PriorityClass is removed",
            );
            assert.deepEqual(await waitGone(), [], "every namespace of the run is removed");
            fs.rmSync(out, { recursive: true, force: true });
        },
    );

    it(
        "Ctrl-C midway: the run removes what it created and exits 130, with a partial report",
        { timeout: 600_000 },
        async () => {
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
        },
    );

    it(
        "killed midway (no cleanup): the next run removes the leftovers first, then leaves nothing",
        { timeout: 600_000 },
        async () => {
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
            assert.match(
                next.out,
                new RegExp(`removing what an interrupted run left: namespace ${NS} \\(created .* by [^)]+/\\d+\\)`),
            );
            const report = JSON.parse(fs.readFileSync(path.join(out, "report.json"), "utf8"));
            assert.deepEqual(report.leftoversRemoved, [NS]);
            assert.deepEqual(await waitGone(), []);
            const pods = await clients(target).core.listPodForAllNamespaces({
                labelSelector: "kubemark-pulumi/measure-run",
            });
            assert.deepEqual(
                pods.items.map((p) => p.metadata!.name),
                [],
                "no pod of either run anywhere",
            );
            const deployments = await clients(target).apps.listDeploymentForAllNamespaces({
                labelSelector: "kubemark-pulumi/measure-run",
            });
            assert.deepEqual(
                deployments.items.map((d) => d.metadata!.name),
                [],
            );
            console.log(
                `leftovers of a killed run (${left} pods) removed first; next run exit ${next.code}, ${left} pods gone`,
            );
            fs.rmSync(out, { recursive: true, force: true });
        },
    );
});
