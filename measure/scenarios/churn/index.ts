// The churn scenario for the command line: kill hollow pods, hold each down for its window, report what the target did.
import type { ScenarioRunner } from "../scenario";
import type { ChurnOutcome } from "./model";
import { churnCharts, churnMarkdown, churnPreconditions, churnRows } from "./report";
import { runChurn } from "./run";

export type { ChurnOutcome, KilledNode } from "./model";

export const churnScenario: ScenarioRunner<ChurnOutcome> = {
    name: "churn",
    // A churn beside a load is how the load's evictions are measured: the load's namespace is left alone.
    onLiveRun: "skip",
    createsNothing: "the churn creates nothing in the target; killed hollow pods come back through their workload",
    run: runChurn,
    rows: churnRows,
    charts: churnCharts,
    markdown: churnMarkdown,
    preconditions: churnPreconditions,
    json: (o) => ({ churn: o }),
};
