// measure/: the command line (defaults, every refusal with option, value and what is accepted) and the stack's state.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { STACK_LABEL_KEY } from "../../../components/config/settings";
import {
    defaultOptions,
    LIST_OPTIONS,
    NUMBER_OPTIONS,
    OptionsError,
    optionsOf,
    parseOptions,
    TEXT_OPTIONS,
} from "../../../measure/options";
import { ROOT } from "../../harness/paths";
import { readStack, stackInfoOf, SYNC_TYPE } from "../../../measure/stack";

function refusal(argv: string[]): string {
    try {
        parseOptions(argv);
    } catch (e) {
        assert.ok(e instanceof OptionsError);
        return e.problems.join("\n");
    }
    assert.fail(`accepted ${argv.join(" ")}`);
}

describe("measure options", () => {
    it("defaults: CL2's load at 30 pods per hollow Node, created at 10/s, 100 Nodes per namespace, groups of 250/30/5", () => {
        const o = defaultOptions("lab");
        assert.deepEqual(
            [o.scenario, o.podsPerNode, o.podsPerSecond, o.holdSeconds, o.output],
            ["load", 30, 10, 30, undefined],
        );
        assert.deepEqual(
            [
                o.nodesPerNamespace,
                o.bigGroupSize,
                o.mediumGroupSize,
                o.smallGroupSize,
                o.seed,
                o.throughputPods,
                o.latencyPods,
            ],
            [100, 250, 30, 5, undefined, undefined, undefined],
        );
        assert.equal(o.latencyPodsPerSecond, 5);
        const d = defaultOptions("lab", "density");
        assert.deepEqual([d.podsPerDeployment, d.scaleDownPercent], [5, 50]);
        const c = defaultOptions("lab", "churn");
        assert.deepEqual([c.kills, c.killsPerMinute, c.downSeconds], [2, 2, 90]);
    });
    it("both spellings, --name value and --name=value", () => {
        const o = parseOptions([
            "--stack=lab",
            "--scenario",
            "churn",
            "--kills=3",
            "--down-seconds",
            "90",
            "--output",
            "out/x",
        ]);
        assert.ok(o !== "help");
        assert.deepEqual([o.stack, o.scenario, o.kills, o.downSeconds, o.output], ["lab", "churn", 3, 90, "out/x"]);
    });
    it("--help asks for usage", () => assert.equal(parseOptions(["--stack", "x", "--help"]), "help"));
    const cases: [string, string[], RegExp][] = [
        ["no stack", [], /--stack: required/],
        [
            "a stack name with a space",
            ["--stack", "my stack"],
            /--stack "my stack": not a stack name; accepted: \[org\/\[project\/\]\]name/,
        ],
        [
            "an unknown scenario",
            ["--stack", "s", "--scenario", "soak"],
            /--scenario "soak": accepted: load, density, churn/,
        ],
        ["an unknown option", ["--stack", "s", "--pods", "3"], /--pods: unknown option; accepted: --stack, --scenario/],
        ["a bare word", ["--stack", "s", "load"], /"load": not an option/],
        ["a missing value", ["--stack", "s", "--hold-seconds"], /--hold-seconds: needs a value/],
        ["a flag where a value goes", ["--stack", "--scenario", "load"], /--stack: needs a value/],
        [
            "a rate above the SLOs' churn bound",
            ["--stack", "s", "--pods-per-second", "25"],
            /--pods-per-second "25": accepted: a number from 0.1 to 20/,
        ],
        [
            "a fraction where a whole number goes",
            ["--stack", "s", "--pods-per-node", "2.5"],
            /--pods-per-node "2.5": accepted: a whole number from 1 to 100/,
        ],
        [
            "a negative number",
            ["--stack", "s", "--hold-seconds", "-1"],
            /--hold-seconds: needs a value|--hold-seconds "-1": accepted/,
        ],
        [
            "text for a number",
            ["--stack", "s", "--kills", "two", "--scenario", "churn"],
            /--kills "two": accepted: a whole number from 1 to 20/,
        ],
        [
            "a churn option for a load",
            ["--stack", "s", "--kills", "2"],
            /--kills "2": applies to --scenario churn only, not load/,
        ],
        [
            "a load option for a churn",
            ["--stack", "s", "--scenario", "churn", "--hold-seconds", "5"],
            /--hold-seconds "5": applies to --scenario load or density only/,
        ],
        [
            "a density option for a load",
            ["--stack", "s", "--pods-per-deployment", "5"],
            /--pods-per-deployment "5": applies to --scenario density only, not load/,
        ],
        [
            "a load option for a density",
            ["--stack", "s", "--scenario", "density", "--seed", "5"],
            /--seed "5": applies to --scenario load only, not density/,
        ],
        [
            "a URL that is not one",
            ["--stack", "s", "--scheduler-metrics-url", "127.0.0.1:10259"],
            /--scheduler-metrics-url "127.0.0.1:10259": accepted: an http:\/\/ or https:\/\/ URL/,
        ],
        ["an option twice", ["--stack", "a", "--stack", "b"], /--stack: given twice \("a" and "b"\)/],
        ["an empty output folder", ["--stack", "s", "--output", ""], /--output "": accepted: a folder path/],
    ];
    for (const [name, argv, message] of cases) {
        it(`refuses ${name}`, () => assert.match(refusal(argv), message));
    }
    it("names every problem at once, and the usage", () => {
        try {
            parseOptions(["--scenario", "x", "--kills", "0"]);
            assert.fail("accepted");
        } catch (e) {
            assert.equal((e as OptionsError).problems.length, 3);
            assert.match((e as Error).message, /usage: npm run measure -- --stack <name>/);
        }
    });
    it("every numeric default lies within its own bounds", () => {
        for (const o of NUMBER_OPTIONS) {
            assert.ok(o.default === undefined ? !!o.defaultText : o.default >= o.min && o.default <= o.max, o.flag);
        }
    });
    it("a report lists the scenario's own options only, and no output when none was given", () => {
        const churn = optionsOf(defaultOptions("lab", "churn"));
        assert.ok("kills" in churn && "timeoutSeconds" in churn);
        assert.ok(!("podsPerNode" in churn) && !("output" in churn) && !("seed" in churn), JSON.stringify(churn));
        const load = optionsOf({ ...defaultOptions("lab"), seed: 7 });
        assert.equal(load.seed, 7);
        assert.ok(!("pools" in load), "all pools: no option to list");
        assert.equal(optionsOf({ ...defaultOptions("lab"), pools: ["gpu", "small"] }).pools, "gpu, small");
        assert.ok(!("kills" in load) && !("podsPerDeployment" in load));
    });
});

const SECRET = "4dabf18193072939515e22adb298388d";
const secret = (v: unknown) => ({ [SECRET]: "1b47061264138c4ac30d75fd1eb44270", plaintext: JSON.stringify(v) });
const sync = (over: Record<string, unknown> = {}) => ({
    urn: "urn:pulumi:lab::kubemark::kubemark:index:HollowNodes$pulumi-nodejs:dynamic/kubemark:HollowNodeSync::sync",
    type: SYNC_TYPE,
    inputs: {},
    outputs: {
        targetKubeconfig: secret("target-kc"),
        nodeKubeconfig: secret("node-kc"),
        selector: `${STACK_LABEL_KEY}=kubemark.lab`,
        namespace: "kubemark-lab",
        podSelector: "app.kubernetes.io/instance=hollow-node-lab",
        replicas: 10,
        nodesPerPod: 1,
        ...over,
    },
});
const exported = (...resources: unknown[]) => ({
    version: 3,
    deployment: { resources: [{ type: "pulumi:pulumi:Stack" }, ...resources] },
});

describe("measure/README.md's options table", () => {
    const readme = fs.readFileSync(path.join(ROOT, "measure", "README.md"), "utf8");
    for (const o of NUMBER_OPTIONS) {
        it(`--${o.flag}: its default, bounds and scenarios`, () => {
            const line = readme.split("\n").find((l) => l.startsWith(`| \`--${o.flag}\` |`));
            assert.ok(line, `--${o.flag} missing from the table`);
            const cells = line.split("|").map((c) => c.trim());
            assert.equal(cells[2], String(o.default ?? o.defaultText));
            assert.ok(cells[3].startsWith(`${o.min}-${o.max}`), `${cells[3]} vs ${o.min}-${o.max}`);
            assert.equal(cells[4], o.scenarios ? o.scenarios.join(", ") : "all");
        });
    }
    for (const o of TEXT_OPTIONS) {
        it(`--${o.flag} is in the table`, () => assert.match(readme, new RegExp(`\\| \`--${o.flag}\` \\|`)));
    }
    for (const o of LIST_OPTIONS) {
        it(`--${o.flag}: its default, what it accepts and its scenarios`, () => {
            const line = readme.split("\n").find((l) => l.startsWith(`| \`--${o.flag}\` |`));
            assert.ok(line, `--${o.flag} missing from the table`);
            const cells = line.split("|").map((c) => c.trim());
            assert.deepEqual(cells.slice(2, 5), [o.defaultText, o.acceptedText, o.scenarios?.join(", ") ?? "all"]);
        });
    }
});

describe("the stack's clusters and selectors, from its state", () => {
    it("reads the HollowNodeSync's outputs, secrets revealed", () => {
        assert.deepEqual(stackInfoOf(exported(sync()), "lab"), {
            stack: "lab",
            targetKubeconfig: "target-kc",
            nodeKubeconfig: "node-kc",
            selector: `${STACK_LABEL_KEY}=kubemark.lab`,
            labelValue: "kubemark.lab",
            namespace: "kubemark-lab",
            podSelector: "app.kubernetes.io/instance=hollow-node-lab",
            replicas: 10,
            nodesPerPod: 1,
        });
    });
    it("state from before nodesPerPod existed: one hollow node per pod", () => {
        assert.equal(stackInfoOf(exported(sync({ nodesPerPod: undefined })), "lab").nodesPerPod, 1);
    });
    const cases: [string, unknown, RegExp][] = [
        [
            "a stack never brought up",
            exported(),
            /stack lab is not up: its state holds no pulumi-nodejs:dynamic\/kubemark:HollowNodeSync resource \(1 resources in all\)/,
        ],
        ["a resource pending deletion only", exported({ ...sync(), delete: true }), /is not up/],
        ["two syncs", exported(sync(), sync()), /holds 2 HollowNodeSync resources/],
        [
            "secrets not decrypted",
            exported(sync({ targetKubeconfig: { [SECRET]: "x", ciphertext: "v1:abc" } })),
            /still encrypted.*PULUMI_CONFIG_PASSPHRASE/,
        ],
        ["a missing namespace", exported(sync({ namespace: "" })), /lacks usable namespace/],
        [
            "a selector on another key",
            exported(sync({ selector: "hollow-node=true" })),
            /Node selector "hollow-node=true" is not kubemark-pulumi\/stack=<value>/,
        ],
    ];
    for (const [name, doc, message] of cases) {
        it(`refuses ${name}`, () => assert.throws(() => stackInfoOf(doc, "lab"), message));
    }
    it("runs `pulumi stack export --show-secrets --stack <name>` and says what the CLI said when it fails", async () => {
        let asked: readonly string[] = [];
        const info = await readStack("lab", async (args) => {
            asked = args;
            return { code: 0, stdout: JSON.stringify(exported(sync())), stderr: "" };
        });
        assert.deepEqual(asked, ["stack", "export", "--show-secrets", "--stack", "lab"]);
        assert.equal(info.replicas, 10);
        await assert.rejects(
            readStack("nope", async () => ({ code: 255, stdout: "", stderr: "error: no stack named 'nope' found" })),
            /cannot read stack nope .*\(exit 255\): error: no stack named 'nope' found/,
        );
    });
});
