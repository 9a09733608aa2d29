// The item editor beside the source pane (loaded before source_pane.js, in the same module).
//
// Drawn here, not by Streamlit widgets, so switching items and deciding them show at once:
// every field is built from fixed tags with its value set as text or .value (the report and
// the record are untrusted), and decisions and edits go to Python as actions on the pane's
// numbered queue. Python stays the judge: it applies them with ReviewSession's rules, and a
// refusal comes back as a notice plus the refused seq, for which the editor keeps the typing.
//
// Edits in flight: what the reviewer types is a draft per item (`drafts`); sending it moves
// it to `inflight` under the action's seq until Python acknowledges that seq, so a rerun that
// arrives meanwhile never overwrites the fields.
//
// Typing not sent yet is also reported to Python as the component state `typing` (each
// draft with the item's fields version it was typed against, `bases`), whenever the focus
// leaves a field: the sidebar's 保存为新版本 and 接受其余全部 apply it first (or refuse and name
// the items), so a sidebar click never saves what Python has while the editor shows other values.

const PROBLEM_LIST = "problems";
const ACHIEVEMENT_LIST = "achievements";

function sliceCodePoints(held, a, b) {
  if (held.length === held.text.length) return held.text.slice(a, b);
  if (!held.units) held.units = codeUnitIndex(held.text);
  return held.text.slice(held.units[a], held.units[b]);
}

function itemLabel(item) {
  const f = item.fields;
  const mark = item.flagged ? "⚠ " : "";
  return `${mark}第${item.position + 1}条 [${f.decision}] ${f.text.slice(0, 24)}`;
}

function makeEditor(pane, host) {
  const ed = {
    drafts: new Map(), // item id -> {area, text, evidence, cause, metrics}
    bases: new Map(), // item id -> {fv: the item's fields version its draft was typed against, draft: a token}
    drafted: 0, // drafts begun on this page (each draft's token is unique)
    inflight: new Map(), // seq -> {id, draft, base}
    reported: "[]", // the typing last reported to Python (JSON)
    shownId: null,
    shownKey: null,
    lastByList: new Map(),
  };
  const top = el("div", "rv-ed-top");
  const progress = el("div", "rv-progress");
  const progressBar = el("div", "rv-progress-bar");
  const progressFill = el("div", "rv-progress-fill");
  progressBar.append(progressFill);
  const progressText = el("span", "rv-progress-text");
  const unsaved = el("span", "rv-unsaved", "有未保存的修改");
  progress.append(progressBar, progressText, unsaved);
  const tabs = el("div", "rv-tabs");
  tabs.setAttribute("role", "tablist");
  const pickRow = el("div", "rv-pick-row");
  const pickLabel = el("label", "rv-pick-label", "当前条目（待核查的排在前面）");
  const picker = el("select", "rv-picker");
  picker.setAttribute("aria-label", "当前条目（待核查的排在前面）");
  const nextButton = el("button", "rv-next", "下一条 ↓");
  nextButton.type = "button";
  pickRow.append(pickLabel, picker, nextButton);
  top.append(progress, tabs, pickRow);
  const notices = el("div", "rv-notices");
  const status = el("div", "rv-item-status");
  const form = el("div", "rv-item-form");
  host.append(top, notices, status, form);
  ed.parts = { progressFill, progressText, unsaved, tabs, picker, notices, status, form };

  const held = () => TEXTS.get(pane.data.doc);

  // The server's fields with the reviewer's draft (or the draft in flight) laid over them.
  ed.values = (item) => {
    const f = item.fields;
    let draft = ed.drafts.get(item.id);
    if (!draft) {
      for (const sent of ed.inflight.values()) if (sent.id === item.id) draft = sent.draft;
    }
    const evidence = f.evidence !== null ? f.evidence : sliceCodePoints(held(), item.start, item.end);
    const metrics = (f.metrics || []).map((row) => ({
      name: row.name,
      value: row.value === null ? "" : String(row.value),
      unit: row.unit,
      evidence: row.evidence !== null ? row.evidence : sliceCodePoints(held(), row.at[0], row.at[1]),
    }));
    const base = { area: f.area, text: f.text, evidence, cause: f.cause ?? null, metrics };
    return draft ? { ...base, ...draft } : base;
  };

  ed.touch = (item, field, value) => {
    if (!ed.drafts.has(item.id)) {
      ed.drafted += 1;
      ed.bases.set(item.id, { fv: item.fv, draft: `${Date.now().toString(36)}.${ed.drafted}` });
    }
    const draft = ed.drafts.get(item.id) || {};
    draft[field] = value;
    ed.drafts.set(item.id, draft);
    ed.showUnsaved();
  };

  // Items whose form holds typing not sent to Python yet (and not typed back to what Python
  // has): a save would leave it out, so the mark shows it and `s` asks for it first.
  ed.pendingIds = () => {
    const pending = [];
    for (const [id, draft] of ed.drafts) {
      const item = pane.itemById(id);
      if (!item) continue;
      const base = ed.values({ ...item, id: null });
      if (Object.keys(draft).some((field) => JSON.stringify(draft[field]) !== JSON.stringify(base[field]))) {
        pending.push(item);
      }
    }
    return pending;
  };

  // Report the unsent typing to Python when it differs from what was last reported (each
  // report is a rerun). Deferred to a microtask: Enter blurs the summary and then sends the
  // draft with its accept, and only what is left unsent after that is worth a report.
  ed.reportTyping = (now = false) => {
    if (!now) {
      queueMicrotask(() => ed.reportTyping(true));
      return;
    }
    if (!pane.setStateValue || !pane.data) return;
    const typing = ed.pendingIds().map((item) => ({
      list: item.list,
      position: item.position,
      ...(ed.bases.get(item.id) || { fv: item.fv, draft: "" }),
      edit: ed.editFor(item, true),
    }));
    const report = JSON.stringify(typing);
    if (report === ed.reported) return;
    ed.reported = report;
    pane.setStateValue("typing", typing);
  };

  // Python's values caught up with a draft (a sidebar save applied it, or it was typed
  // back): it is no draft any more, and later typing starts from the item's new version.
  ed.forgetSettledDrafts = () => {
    const pending = new Set(ed.pendingIds().map((item) => item.id));
    for (const id of [...ed.drafts.keys()]) {
      if (pending.has(id) || !pane.itemById(id)) continue;
      ed.drafts.delete(id);
      ed.bases.delete(id);
    }
  };

  ed.showUnsaved = () => {
    const data = pane.data;
    const sentChanges = pane.queue.some((action) => action.kind !== "focus");
    ed.parts.unsaved.hidden = !(data.unsaved || sentChanges || ed.pendingIds().length);
  };

  // The edit an accept or fix carries: the whole form, as the reviewer sees it, when the
  // reviewer changed something (a plain accept carries none: Python keeps the item as is).
  ed.editFor = (item, always) => {
    if (!always && !ed.drafts.has(item.id)) return null;
    const v = ed.values(item);
    const edit = { area: v.area, text: v.text, evidence: v.evidence };
    if (item.list === PROBLEM_LIST) edit.cause = v.cause ?? "";
    if (item.list === ACHIEVEMENT_LIST) edit.metrics = v.metrics;
    return edit;
  };

  ed.sent = (seq, item) => {
    const draft = ed.drafts.get(item.id);
    if (!draft) return;
    ed.drafts.delete(item.id);
    ed.inflight.set(seq, { id: item.id, draft, base: ed.bases.get(item.id) });
    ed.bases.delete(item.id);
    ed.reportTyping();
  };

  // Drafts are kept by item id (list and position). An added item that is rejected is
  // dropped and the items after it move up: a draft goes with the item it was typed into,
  // found by the fields version it was typed against (the nearest such item of its list),
  // so it never shows on, or is sent with, the item that took its place.
  ed.followMovedDrafts = () => {
    const moves = [];
    for (const [id, base] of ed.bases) {
      const item = pane.itemById(id);
      if (item && item.fv === base.fv) continue;
      const [list, position] = [id.slice(0, id.lastIndexOf(":")), Number(id.slice(id.lastIndexOf(":") + 1))];
      const same = pane.data.items.filter(
        (it) => it.list === list && it.fv === base.fv && it.id !== id && !ed.bases.has(it.id),
      );
      if (!same.length) continue; // changed, not moved: the draft stays (Python judges it)
      same.sort((a, b) => Math.abs(a.position - position) - Math.abs(b.position - position));
      moves.push([id, same[0].id]);
    }
    const drafts = new Map(moves.map(([from]) => [from, ed.drafts.get(from)]));
    const bases = new Map(moves.map(([from]) => [from, ed.bases.get(from)]));
    for (const [from] of moves) {
      ed.drafts.delete(from);
      ed.bases.delete(from);
    }
    for (const [from, to] of moves) {
      if (drafts.get(from)) ed.drafts.set(to, drafts.get(from));
      ed.bases.set(to, bases.get(from));
    }
  };

  ed.settle = (data) => {
    const refused = new Set(data.refused || []);
    for (const [seq, sent] of ed.inflight) {
      if (seq > data.ack) continue;
      ed.inflight.delete(seq);
      if (refused.has(seq) && !ed.drafts.has(sent.id)) {
        ed.drafts.set(sent.id, sent.draft);
        ed.bases.set(sent.id, sent.base);
      }
    }
    // Not reported from here: a report is a rerun, and one sent while a sidebar save's run
    // is still drawing cuts that run short. Python knows the typing it applied (`unsent`);
    // the next focusout reports what is left.
    ed.followMovedDrafts();
    ed.forgetSettledDrafts();
  };

  ed.showTop = () => {
    const data = pane.data;
    const list = pane.currentList();
    const decided = data.items.filter((it) => (pane.states.get(it.id) || "open") !== "open").length;
    const total = data.items.length;
    ed.parts.progressFill.style.width = `${total ? (100 * decided) / total : 100}%`;
    ed.parts.progressText.textContent = `已审核条目 ${decided} / ${total}`;
    ed.showUnsaved();
    const counts = {};
    for (const it of data.items) counts[it.list] = (counts[it.list] || 0) + 1;
    const tabsKey = `${list}|${JSON.stringify(counts)}`;
    if (ed.tabsKey !== tabsKey) {
      ed.tabsKey = tabsKey;
      ed.parts.tabs.textContent = "";
      for (const [value, label] of Object.entries(data.lists)) {
        const tab = el("button", "rv-tab", `${label}（${counts[value] || 0}）`);
        tab.type = "button";
        tab.setAttribute("role", "tab");
        tab.setAttribute("aria-selected", String(value === list));
        tab.addEventListener("click", () => ed.openList(value));
        ed.parts.tabs.append(tab);
      }
    }
    const order = data.order[list] || [];
    const byId = new Map(data.items.map((it) => [it.id, it]));
    const options = order.map((position) => {
      const item = byId.get(`${list}:${position}`);
      return [position, item ? itemLabel(item) : `第${position + 1}条`];
    });
    const pickKey = `${list}|${options.map((o) => o[1]).join("\n")}`;
    if (ed.pickKey !== pickKey) {
      ed.pickKey = pickKey;
      ed.parts.picker.textContent = "";
      for (const [position, label] of options) {
        const option = el("option", "", label);
        option.value = String(position);
        ed.parts.picker.append(option);
      }
    }
    const focused = pane.focus ? pane.itemById(pane.focus) : null;
    if (focused && focused.list === list) ed.parts.picker.value = String(focused.position);
  };

  ed.openList = (list) => {
    const order = pane.data.order[list] || [];
    const remembered = ed.lastByList.get(list);
    const position = order.includes(remembered) ? remembered : order[0];
    if (position === undefined) {
      pane.emptyList = list; // nothing to focus in it: shown until Python's next state
      pane.showFocus(null, false);
      return;
    }
    pane.focusItem(`${list}:${position}`);
  };

  ed.showNotices = (list) => {
    ed.parts.notices.textContent = "";
    for (const [kind, message] of list) ed.parts.notices.append(el("div", `rv-notice rv-${kind}`, message));
  };

  ed.show = (id) => {
    if (!pane.data) return;
    const item = id ? pane.itemById(id) : null;
    if (item) ed.lastByList.set(item.list, item.position);
    ed.showTop();
    const state = item ? pane.states.get(item.id) || "open" : null;
    const key = item ? `${item.id}|${state}|${JSON.stringify(item.fields)}` : "none";
    const active = document.activeElement;
    const typing = ed.shownId === id && active && host.contains(active) && active.matches("input, textarea, select");
    if (key === ed.shownKey || typing) return;
    ed.shownId = id;
    ed.shownKey = key;
    ed.parts.status.textContent = "";
    ed.parts.form.textContent = "";
    if (!item) {
      ed.parts.status.append(el("div", "rv-notice rv-info", `没有${pane.data.lists[pane.currentList()]}条目。`));
      return;
    }
    drawStatus(ed, pane, item, state);
    if (state !== "rejected") drawForm(ed, pane, item);
  };

  // Leaving the editor (for the sidebar's buttons among others) reports what it holds; a
  // move between its own fields and buttons does not (each report is a rerun).
  host.addEventListener("focusout", (event) => {
    if (!host.contains(event.relatedTarget)) ed.reportTyping();
  });
  // A shortcut pressed in a field (Alt+S is the sidebar's save) clicks without a focusout:
  // report now, in the capture phase, before the document-level shortcut handler runs.
  host.addEventListener(
    "keydown",
    (event) => {
      if (event.altKey || event.ctrlKey || event.metaKey) ed.reportTyping(true);
    },
    true,
  );
  picker.addEventListener("change", () => pane.focusItem(`${pane.currentList()}:${picker.value}`));
  nextButton.addEventListener("click", () => pane.step(1));
  return ed;
}

function drawStatus(ed, pane, item, state) {
  const f = item.fields;
  const box = ed.parts.status;
  const decision = state === "accepted" && f.decision === "未审核" ? "已接受" : f.decision;
  box.append(el("div", "rv-item-title", `第 ${item.position + 1} 条 · ${state === "rejected" ? "已退回" : decision}`));
  if (f.reasons.length) box.append(el("div", "rv-notice rv-warning", `待核查：${f.reasons.join("；")}`));
  if (f.problems.length && f.override) {
    box.append(el("div", "rv-notice rv-info", `已强行通过，理由：${f.override}（${f.problems.join("；")}）`));
  } else if (f.problems.length) {
    box.append(el("div", "rv-notice rv-error", `不能通过：${f.problems.join("；")}。请改正，或写明理由后强行通过。`));
    const row = el("div", "rv-override");
    const reason = el("input", "rv-override-reason");
    reason.setAttribute("aria-label", "强行通过的理由（记入修改记录）");
    reason.placeholder = "强行通过的理由（记入修改记录）";
    const go = el("button", "rv-override-button", "强行通过");
    go.type = "button";
    go.addEventListener("click", () => {
      pane.send({ kind: "override", list: item.list, position: item.position, reason: reason.value });
    });
    row.append(reason, go);
    box.append(row);
  }
  if (state === "rejected") {
    box.append(el("div", "rv-notice rv-info", "此条已退回，保存时不会写入记录（修改记录中仍可查到）。"));
    const restore = el("button", "rv-restore", "恢复此条");
    restore.type = "button";
    restore.addEventListener("click", () => {
      pane.states.set(item.id, item.fields.decision === "新增" ? "added" : "open");
      pane.send({ kind: "restore", list: item.list, position: item.position });
      pane.showStates();
      ed.shownKey = null;
      ed.show(item.id);
    });
    box.append(restore);
  }
}

function labelled(labelText, field) {
  const wrap = el("label", "rv-field");
  wrap.append(el("span", "rv-field-label", labelText), field);
  field.setAttribute("aria-label", labelText);
  return wrap;
}

function drawForm(ed, pane, item) {
  const v = ed.values(item);
  const form = ed.parts.form;
  const area = el("select", "rv-area");
  for (const value of pane.data.editor.areas) {
    const option = el("option", "", value);
    option.value = value;
    area.append(option);
  }
  area.value = v.area;
  area.addEventListener("change", () => ed.touch(item, "area", area.value));
  const text = el("input", "rv-text");
  text.value = v.text;
  text.addEventListener("input", () => ed.touch(item, "text", text.value));
  text.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || event.isComposing) return;
    event.preventDefault();
    text.blur();
    pane.decide("accept");
  });
  const evidence = el("textarea", "rv-evidence");
  evidence.rows = 3;
  evidence.value = v.evidence;
  evidence.addEventListener("input", () => ed.touch(item, "evidence", evidence.value));
  form.append(labelled("领域", area), labelled("摘要", text), labelled("证据（须为原文）", evidence));
  if (item.list === PROBLEM_LIST) {
    const cause = el("textarea", "rv-cause");
    cause.rows = 2;
    cause.value = v.cause ?? "";
    cause.addEventListener("input", () => ed.touch(item, "cause", cause.value));
    form.append(labelled("原因", cause));
  }
  if (item.list === ACHIEVEMENT_LIST) form.append(metricsTable(ed, pane, item, v.metrics));
  const buttons = el("div", "rv-decide");
  for (const [kind, label, primary] of [["accept", "接受 ✓", true], ["fix", "修改 ✎", false], ["reject", "退回 ✗", false]]) {
    const button = el("button", primary ? "rv-primary" : "", label);
    button.type = "button";
    button.addEventListener("click", () => pane.decide(kind));
    buttons.append(button);
  }
  form.append(buttons);
}

function metricsTable(ed, pane, item, rows) {
  const columns = pane.data.editor.metricColumns;
  const box = el("div", "rv-metrics");
  box.append(el("div", "rv-field-label", "指标"));
  const table = el("table", "rv-metrics-table");
  const head = el("tr");
  for (const [, label] of columns) head.append(el("th", "", label));
  head.append(el("th", "", ""));
  table.append(head);
  const current = rows.map((row) => ({ ...row }));
  const changed = () => ed.touch(item, "metrics", current.map((row) => ({ ...row })));
  const drawRows = () => {
    for (const row of [...table.querySelectorAll("tr.rv-metric-row")]) row.remove();
    current.forEach((row, index) => {
      const tr = el("tr", "rv-metric-row");
      for (const [column, label] of columns) {
        const td = el("td");
        const input = el("input", `rv-metric-${column}`);
        input.value = row[column] ?? "";
        input.setAttribute("aria-label", `${label}（第${index + 1}行）`);
        if (column === "value") input.inputMode = "decimal";
        input.addEventListener("input", () => {
          row[column] = input.value;
          changed();
        });
        td.append(input);
        tr.append(td);
      }
      const td = el("td");
      const remove = el("button", "rv-metric-remove", "删除");
      remove.type = "button";
      remove.setAttribute("aria-label", `删除第${index + 1}行指标`);
      remove.addEventListener("click", () => {
        current.splice(index, 1);
        changed();
        drawRows();
      });
      td.append(remove);
      tr.append(td);
      table.append(tr);
    });
  };
  drawRows();
  const add = el("button", "rv-metric-add", "添加指标");
  add.type = "button";
  add.addEventListener("click", () => {
    current.push({ name: "", value: "", unit: "", evidence: "" });
    changed();
    drawRows();
  });
  box.append(table, add);
  return box;
}
