// The lab keeps its network to itself: the root network namespace is the same before lab:up, while it runs and after
// lab:down, a killed lab included. Runs outside the lab's namespace (e2e/run.sh runs it first), as a user's shell does.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { toolchainDir } from "../test/harness/controlPlane";
import { ROOT } from "../test/harness/paths";
import { differences, inLabNetns, labMarks, NETNS, snapshot, Snapshot, WHILE_UP_MAY_DIFFER } from "../lab/hostNet";
import { BUSYBOX_IMAGE, kubeconfigFile, lab, LAB, labMissing, sleep } from "../lab/lab";

const skip = labMissing() ?? (inLabNetns() ? `runs outside network namespace ${NETNS} (npm run test:e2e runs it first, from the host)` : undefined);
const log = (m: string) => console.log(`[host] ${m}`);

/** A client through lab/exec.sh, as users and the tests reach the lab. */
function inLab(args: string[]): { code: number; out: string } {
    const run = spawnSync("bash", [path.join(ROOT, "lab", "exec.sh"), ...args], { encoding: "utf8" });
    return { code: run.status ?? 1, out: `${run.stdout}${run.stderr}` };
}
const kubectl = (cluster: "node" | "target", ...args: string[]) =>
    inLab([path.join(toolchainDir(), "bin", "kubectl"), "--kubeconfig", kubeconfigFile(cluster), "--request-timeout=10s", ...args]);

function assertSame(before: Snapshot, now: Snapshot, when: string, skipSections: ReadonlySet<string> = new Set()): void {
    const diff = differences(before, now, skipSections);
    assert.deepEqual(diff, [], `${when}, the root network namespace differs from before lab:up:\n${diff.join("\n")}`);
    const checked = Object.entries(now).filter(([s]) => !skipSections.has(s));
    log(`${when}: ${checked.map(([s, ls]) => `${s} (${ls.length})`).join(", ")}: as before lab:up`);
}

describe("the lab's network stays in its namespace: the host's is the same before lab:up and after lab:down", { skip }, () => {
    let clean: Snapshot;

    before(async () => {
        // Whatever an earlier run left is undone first; the host as it is then is the reference.
        const down = await lab("down", "--wipe");
        assert.equal(down.code, 0, down.out);
        clean = snapshot();
        assert.ok(!clean["ip netns list"].some((l) => l.startsWith(NETNS)), `network namespace ${NETNS} is still there after lab:down ` +
            "(other processes inside it?)");
        assert.deepEqual(labMarks(clean), [], "the root namespace carries lab addresses or names before lab:up (an older lab's?)");
        log(`before lab:up: ${Object.entries(clean).map(([s, ls]) => `${s} ${ls.length} lines`).join("; ")}`);
    });

    after(async () => {
        await lab("down");
    });

    it("while the lab runs: no lab address, route, rule or net.* sysctl in the root namespace; clients and pods reach it in its own", { timeout: 600_000 }, async () => {
        const up = await lab("up");
        assert.equal(up.code, 0, up.out);
        log(`lab up: ${up.seconds.toFixed(1)}s`);
        const running = snapshot();
        assert.deepEqual(labMarks(running), [], "lab addresses or names in the root namespace");
        assertSame(clean, running, "while the lab runs", WHILE_UP_MAY_DIFFER);
        assert.ok(running["ip netns list"].some((l) => l.startsWith(NETNS)), `no network namespace ${NETNS}`);
        // In the namespace: both API server addresses, the registry on its loopback, both clusters answer.
        const addrs = inLab(["ip", "-4", "-o", "addr", "show", "dev", "lo"]);
        assert.match(addrs.out, /10\.245\.0\.1\/32/);
        assert.match(addrs.out, /10\.245\.0\.2\/32/);
        const node = kubectl("node", "get", "node", "lab-worker", "-o", "jsonpath={.status.addresses[0].address}");
        assert.equal(node.code, 0, node.out);
        assert.equal(node.out.trim(), "10.245.0.2");
        const target = kubectl("target", "get", "--raw", "/readyz");
        assert.equal(target.code, 0, target.out);
        const registry = inLab(["curl", "-fsS", "--max-time", "5", "http://127.0.0.1:5000/v2/_catalog"]);
        assert.match(registry.out, /lab\/pause/);
        // A pod on the worker reaches the target API server over TLS with the target kubeconfig, as hollow kubelets do.
        const selftest = spawnSync("bash", [path.join(ROOT, "lab", "selftest.sh")], { encoding: "utf8" });
        assert.equal(selftest.status, 0, `${selftest.stdout}${selftest.stderr}`);
        log(`selftest in ${NETNS}: ${selftest.stdout.trim().split("\n").filter((l) => /PASS|FAIL/.test(l)).length} checks passed`);
    });

    it("lab:down leaves the root namespace as it was before lab:up, and removes the lab's namespace", { timeout: 300_000 }, async () => {
        const down = await lab("down");
        assert.equal(down.code, 0, down.out);
        log(`lab down: ${down.seconds.toFixed(1)}s`);
        assertSame(clean, snapshot(), "after lab:down");
    });

    it("a killed lab (every daemon SIGKILLed, a pod running): lab:down still leaves the root namespace as before", { timeout: 600_000 }, async () => {
        const up = await lab("up");
        assert.equal(up.code, 0, up.out);
        // A running pod: its container, shim, veth and network namespace outlive the daemons.
        let run1 = kubectl("node", "run", "held", `--image=${BUSYBOX_IMAGE}`, "--restart=Never", "--", "sleep", "3600");
        for (let i = 0; i < 30 && run1.code !== 0; i++) {
            // Refused until the controller manager has made the namespace's default ServiceAccount.
            await sleep(1000);
            run1 = kubectl("node", "run", "held", `--image=${BUSYBOX_IMAGE}`, "--restart=Never", "--", "sleep", "3600");
        }
        assert.equal(run1.code, 0, run1.out);
        const ready = kubectl("node", "wait", "--for=condition=Ready", "pod/held", "--timeout=90s");
        assert.equal(ready.code, 0, ready.out);
        const run = path.join(LAB, "run");
        const pids = fs.readdirSync(run).filter((f) => f.endsWith(".pid")).map((f) => Number(fs.readFileSync(path.join(run, f), "utf8")))
            .filter((pid) => pid > 1 && fs.existsSync(`/proc/${pid}`));
        assert.ok(pids.length >= 11, `${pids.length} lab daemons running`);
        for (const pid of pids) {
            process.kill(pid, "SIGKILL");
        }
        log(`killed ${pids.length} lab daemons, pod held still running`);
        const down = await lab("down");
        assert.equal(down.code, 0, down.out);
        assertSame(clean, snapshot(), "after lab:down of a killed lab");
    });
});
