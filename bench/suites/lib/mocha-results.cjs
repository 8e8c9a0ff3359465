// A mocha reporter (mocha 7 and later) for bench/suites/run.sh: writes every
// test's outcome to the JSON file named by SUITE_RESULTS and prints a short
// summary. It needs nothing from mocha itself, so it works with whatever
// version the project under test installed.
"use strict";
const fs = require("fs");

module.exports = function SuiteResults(runner) {
  const passed = [];
  const failed = [];
  const hookFailures = [];
  const pending = [];
  let planned = 0;
  let seen = 0;
  const started = Date.now();
  const tick = () => {
    seen += 1;
    if (seen % 250 === 0) process.stderr.write(`  ${seen} tests done\n`);
  };
  runner.on("start", () => {
    planned = runner.total;
  });
  runner.on("pass", (test) => {
    passed.push(test.fullTitle());
    tick();
  });
  runner.on("fail", (test, err) => {
    const entry = {
      title: test.fullTitle(),
      message: String((err && err.message) || err).split("\n")[0].slice(0, 600),
    };
    if (test.type === "hook") hookFailures.push(entry);
    else {
      failed.push(entry);
      tick();
    }
  });
  runner.on("pending", (test) => {
    pending.push(test.fullTitle());
  });
  runner.once("end", () => {
    const notRun = Math.max(0, planned - passed.length - failed.length - pending.length);
    const out = {
      planned,
      passed: passed.length,
      failed: failed.length,
      pending: pending.length,
      hookFailures: hookFailures.length,
      notRun,
      seconds: (Date.now() - started) / 1000,
      failures: failed,
      hooks: hookFailures,
      passes: passed,
    };
    if (process.env.SUITE_RESULTS) fs.writeFileSync(process.env.SUITE_RESULTS, JSON.stringify(out, null, 1));
    process.stderr.write(
      `mocha: ${planned} planned, ${passed.length} passed, ${failed.length} failed, ` +
        `${pending.length} pending, ${hookFailures.length} hook failures, ${notRun} not run\n`,
    );
  });
};
