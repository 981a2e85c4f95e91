/**
 * `report <workflow> | --run ID`: the report of one workflow or of every workflow of a run, as
 * HTML (default: a file, since a browser opens it), JSON or Markdown (default: stdout, for pipes).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../../cluster/errors';
import { isCompleted } from '../../cluster/workflow';
import { joinReports, workflowReport } from '../../report/build';
import { collect, getWorkflow, runWorkflows } from '../../report/collect';
import { renderHtml } from '../../report/html';
import { renderMarkdown } from '../../report/markdown';
import { formatCounts, formatHours } from '../../report/format';
import type { Report } from '../../report/model';
import type { Session } from '../session';

/** Options of report. */
export interface ReportCommandOptions {
  readonly run?: string;
  readonly env?: string;
  /** A file, or `-` for stdout. */
  readonly out?: string;
}

function render(r: Report, format: string): string {
  if (format === 'json') return `${JSON.stringify(r, null, 2)}\n`;
  if (format === 'md') return renderMarkdown(r);
  return renderHtml(r);
}

/** `sleap-roots-report-<name>.html`, with anything but [A-Za-z0-9._-] replaced. */
function defaultFile(subject: string): string {
  return `sleap-roots-report-${subject.replace(/[^A-Za-z0-9._-]+/g, '-')}.html`;
}

export async function reportCommand(s: Session, name: string | undefined, o: ReportCommandOptions): Promise<number> {
  if (!name === !o.run) throw new UserError(name ? 'give a workflow or --run, not both' : 'name a workflow, or --run <id> for every workflow of a run', 'recent workflows: npx sleap-roots list');
  const format = s.opts.output === 'json' || s.opts.output === 'md' ? s.opts.output : 'html';
  const namespace = await s.namespace(o.env);
  const client = await s.client();
  const signal = s.io.signal;
  const workflows = o.run ? await runWorkflows(client, namespace, o.run, signal) : [await getWorkflow(client, namespace, name!, signal)];
  const now = s.io.now();
  // One workflow at a time: its pods' logs are dropped once its report is made.
  const reports = [];
  for (const wf of workflows) reports.push(workflowReport(await collect(client, wf, { namespace, signal }), now));
  const report = joinReports(reports, { namespace, run: o.run, now, running: workflows.some((w) => !isCompleted(w)) });
  const text = s.redactor.redact(render(report, format));
  const out = o.out ?? (format === 'html' ? defaultFile(o.run ? `run-${o.run}` : name!) : '-');
  if (out === '-') {
    s.io.stdout.write(text);
    return 0;
  }
  const file = path.resolve(s.io.cwd, out);
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
  const scans = report.totals.scans ? `${formatCounts(report.totals.scans)}; ` : '';
  const gaps = report.workflows.reduce((n, w) => n + w.unavailable.length, 0);
  s.io.stderr.write(`report written to ${file} (${scans}${formatHours(report.totals.gpuHours)} GPU hours${gaps ? `; ${gaps} note(s) on unavailable data` : ''})\n`);
  return 0;
}
