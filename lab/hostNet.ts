// The host's network configuration, as the lab must leave it: what the root network namespace holds, read from it.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

import { ROOT } from "../test/harness/paths";
import { LAB_CONSTANTS } from "./constants";

export const NETNS = LAB_CONSTANTS.NETNS;
/** The first three octets of an IPv4 address or range, with the dot: what any address of its /24 starts with. */
const net24 = (ip: string) => ip.split(".").slice(0, 3).join(".") + ".";
/**
 * The lab's addresses, its bridges (OLD_LAB_IF: in the root namespace before the lab had its own) and rule comment:
 * none may show in the host's own network configuration.
 */
export const LAB_MARKS = [net24(LAB_CONSTANTS.LAB_IP), net24(LAB_CONSTANTS.NODE_IP), net24(LAB_CONSTANTS.POD_CIDR),
    LAB_CONSTANTS.OLD_LAB_IF, LAB_CONSTANTS.CNI_BR, "kubemark-lab"].filter((m, i, all) => all.indexOf(m) === i);

/** The host-wide (not per-namespace) sysctls the lab raises and restores, as lab/host.sh lists them. */
export function labHostSysctls(): string[] {
    const m = /^LAB_SYSCTLS=\(([^)]*)\)/m.exec(fs.readFileSync(path.join(ROOT, "lab", "host.sh"), "utf8"));
    if (!m) {
        throw new Error("lab/host.sh has no LAB_SYSCTLS=(...)");
    }
    return m[1].split(/\s+/).filter(Boolean);
}

/**
 * The host's own network namespace: pid 1's, or where pid 1 is shielded (as on the CI machine), kthreadd's (pid 2;
 * kernel threads are always in the initial namespace). lab/lib.sh picks it the same way.
 */
export function hostNetFile(): string {
    try {
        fs.readlinkSync("/proc/1/ns/net");
        return "/proc/1/ns/net";
    } catch {
        return "/proc/2/ns/net";
    }
}

/** Runs a command in the host's network namespace, whichever the caller is in; its stdout. */
function rootNet(cmd: string[]): string {
    const run = spawnSync("nsenter", [`--net=${hostNetFile()}`, "--", ...cmd], { encoding: "utf8", maxBuffer: 64 << 20 });
    if (run.error) {
        throw run.error;
    }
    // sysctl -a fails on write-only and unreadable keys (and says so on stderr) but prints every other one.
    if (run.status !== 0 && cmd[0] !== "sysctl") {
        throw new Error(`${cmd.join(" ")}: exit ${run.status}: ${run.stderr}`);
    }
    return run.stdout;
}

const lines = (text: string) => text.split("\n").filter((l) => l.trim() !== "");
/** Address lifetimes count down on their own; so does a route's expiry. */
const noLifetimes = (l: string) => l.replace(/(valid_lft|preferred_lft) \d+sec/g, "$1 Nsec").replace(/expires \d+sec/g, "expires Nsec");
/** Firewall dumps: a timestamped header and packet/byte counters that move with any traffic. */
const noCounters = (l: string) => l.replace(/\[\d+:\d+\]/g, "[]");
/** Counters, not configuration: the root namespace's own connection tracking comes and goes with its traffic. */
const DYNAMIC_SYSCTLS = new Set(["net.netfilter.nf_conntrack_count"]);

export type Snapshot = Record<string, string[]>;

/** Sections whose every line must be the same after lab:down as before lab:up; all but the last two while it runs. */
export function snapshot(): Snapshot {
    const firewall = (tool: string) => (fs.existsSync(`/usr/sbin/${tool}`)
        ? lines(rootNet([tool])).filter((l) => !l.startsWith("#")).map(noCounters) : [`${tool}: not installed`]);
    return {
        "ip -d link": lines(rootNet(["ip", "-d", "link", "show"])),
        "ip addr": lines(rootNet(["ip", "addr", "show"])).map(noLifetimes),
        "ip -4 route, all tables": lines(rootNet(["ip", "-4", "route", "show", "table", "all"])).map(noLifetimes),
        "ip -6 route, all tables": lines(rootNet(["ip", "-6", "route", "show", "table", "all"])).map(noLifetimes),
        "ip -4 rule": lines(rootNet(["ip", "-4", "rule", "show"])),
        "ip -6 rule": lines(rootNet(["ip", "-6", "rule", "show"])),
        "iptables-save": firewall("iptables-save"),
        "ip6tables-save": firewall("ip6tables-save"),
        "iptables-legacy-save": firewall("iptables-legacy-save"),
        "ip6tables-legacy-save": firewall("ip6tables-legacy-save"),
        "sysctl net.*": lines(rootNet(["sysctl", "-a"])).filter((l) => l.startsWith("net.") && !DYNAMIC_SYSCTLS.has(l.split(" = ")[0])),
        "sysctl, host-wide ones the lab raises": lines(rootNet(["sysctl", ...labHostSysctls()])),
        "ip netns list": lines(rootNet(["ip", "netns", "list"])),
    };
}

/** Sections that may differ while the lab runs: its namespace is listed, its host-wide sysctls are raised. */
export const WHILE_UP_MAY_DIFFER = new Set(["sysctl, host-wide ones the lab raises", "ip netns list"]);

/** Lines only in `before` (-) and only in `after` (+), per section; empty when they match. */
export function differences(before: Snapshot, after: Snapshot, skip: ReadonlySet<string> = new Set()): string[] {
    const out: string[] = [];
    for (const section of new Set([...Object.keys(before), ...Object.keys(after)])) {
        if (skip.has(section)) {
            continue;
        }
        const a = before[section] ?? [];
        const b = after[section] ?? [];
        if (a.join("\n") === b.join("\n")) {
            continue;
        }
        const inB = new Set(b);
        const inA = new Set(a);
        out.push(`${section}:`, ...a.filter((l) => !inB.has(l)).map((l) => `  - ${l}`), ...b.filter((l) => !inA.has(l)).map((l) => `  + ${l}`));
        if (a.every((l) => inB.has(l)) && b.every((l) => inA.has(l))) {
            out.push("  (same lines, another order)");
        }
    }
    return out;
}

/** Root-namespace lines that carry one of the lab's addresses or names. */
export function labMarks(s: Snapshot): string[] {
    return Object.entries(s).flatMap(([section, ls]) => ls.filter((l) => LAB_MARKS.some((m) => l.includes(m))
        && !(section === "ip netns list" && l.startsWith(NETNS))).map((l) => `${section}: ${l}`));
}

/** Whether this process runs inside the lab's network namespace (lab/exec.sh). */
export function inLabNetns(): boolean {
    try {
        return fs.readlinkSync("/proc/self/ns/net") === `net:[${fs.statSync(`/run/netns/${NETNS}`).ino}]`;
    } catch {
        return false;
    }
}
