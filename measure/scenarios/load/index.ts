// Scenario load as the command line runs it.
import { poolPreconditions } from "../../phases/poolReport";
import type { ScenarioRunner } from "../scenario";
import { loadCharts, loadMarkdown, loadRows } from "./report";
import { LoadOutcome, runLoad } from "./run";

export const loadScenario: ScenarioRunner<LoadOutcome> = {
    name: "load",
    onLiveRun: "refuse",
    createsNothing: "nothing was created",
    run: runLoad,
    rows: loadRows,
    charts: loadCharts,
    markdown: loadMarkdown,
    preconditions: (o) => poolPreconditions(o.pools),
    json: (o) => ({ load: o }),
};
