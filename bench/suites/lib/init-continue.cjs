// Preloaded (node -r) into ElectroDB's test/init.js. Its createTable() ends
// the process with process.exit(1) on the first refused CreateTable, while
// the other CreateTable calls (started together under Promise.all) are
// still in flight, so one refused table leaves unrelated tables uncreated.
// Here the exit is deferred until every call has settled; the exit status
// is still 1 when any table was refused.
"use strict";
const exit = process.exit.bind(process);
let status = 0;
process.exit = (code) => {
  status = status || code || 0;
  if (code) process.stderr.write("init: a table was refused (above); the other tables are still created\n");
};
process.on("beforeExit", () => exit(status));
