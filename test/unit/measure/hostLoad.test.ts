// measure/metrics/host: the host's CPU load from /proc/stat over a run, and whether the target runs on this machine.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { busyFraction, hostHealth, onThisMachine, parseProcStat } from "../../../measure/metrics/host";
import { T0 } from "../../harness/controlPlaneScrapes";

const STAT1 = "cpu  100 10 50 800 20 5 5 10 0 0\ncpu0 50 5 25 400 10 2 3 5 0 0\nintr 12345 0 0\nctxt 999\n";
const STAT2 = "cpu  400 10 150 1100 40 10 15 20 7 0\ncpu0 200 5 75 550 20 5 8 10 7 0\nintr 22345 0 0\nctxt 1999\n";

describe("the host's load", () => {
    it("/proc/stat's aggregate line: busy without idle and iowait, guest not counted twice", () => {
        assert.deepEqual(parseProcStat(STAT1), { busy: 180, total: 1000 });
        assert.deepEqual(parseProcStat(STAT2), { busy: 605, total: 1745 });
    });
    it("busy fraction between two reads", () =>
        assert.equal(busyFraction(parseProcStat(STAT1), parseProcStat(STAT2)), 425 / 745));
    it("no tick between reads: no fraction", () =>
        assert.equal(busyFraction(parseProcStat(STAT1), parseProcStat(STAT1)), undefined));
    it("not /proc/stat: an error", () => assert.throws(() => parseProcStat("intr 1\n"), /no aggregate cpu line/));
    it("over the run and per interval", () => {
        const reads = [STAT1, STAT2, "cpu  500 10 150 1200 40 10 15 20 0 0\n"].map((t, i) => ({
            atMs: T0 + i * 10_000,
            cpu: parseProcStat(t),
            loadavg1: [1.5, 7.25, 3][i],
        }));
        const { health, busy, load } = hostHealth({ cores: 8, reads }, T0);
        assert.ok(health.measured);
        assert.equal(health.busyMean, Math.round((1000 * (705 - 180)) / (1945 - 1000)) / 1000);
        assert.equal(health.busyMax, Math.round((1000 * 425) / 745) / 1000);
        assert.equal(health.loadavg1Max, 7.25);
        assert.equal(health.loadavg1Last, 3);
        assert.deepEqual(
            busy.map((p) => p.t),
            [10, 20],
        );
        assert.equal(load.length, 3);
    });
    it("not on this machine: why", () =>
        assert.deepEqual(hostHealth({ why: "elsewhere" }, T0).health, { measured: false, why: "elsewhere" }));
});

describe("where the target runs", () => {
    const here = ["127.0.0.1", "10.245.0.1", "fe80::1", "::1"];
    const cases: [string, boolean][] = [
        ["https://127.0.0.1:6443", true],
        ["https://127.3.4.5:6443", true],
        ["https://localhost:6443", true],
        ["https://[::1]:6443", true],
        ["https://10.245.0.1:6443", true],
        ["https://[fe80::1]:6443", true],
        ["https://10.245.0.2:6443", false],
        ["https://api.example.com", false],
        ["not a url", false],
    ];
    for (const [server, want] of cases) {
        it(`${server}: ${want ? "this machine" : "elsewhere"}`, () => assert.equal(onThisMachine(server, here), want));
    }
});
