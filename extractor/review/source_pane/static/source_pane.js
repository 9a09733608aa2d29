// The review screen's source pane (Streamlit components v2, mounted in the page, no iframe).
//
// Safety: the report is untrusted. Its text only ever enters the page as text nodes
// (textContent / createTextNode); items arrive as numbers (code-point offsets) and the
// markup around them is built here from fixed tags and class names.
//
// Speed: the text's DOM is built once per (report, spans) and kept across reruns; a rerun
// that only changes states or focus touches classes. Keys act on the pane at once
// (optimistically) and send an action to Python through one state value, `actions`: a queue
// of {seq, kind, ...} that Python acknowledges with `data.ack`, so a rerun that merges two
// key presses loses neither.

const HELP = [
  ["j / k", "下一条 / 上一条（当前列表）"],
  ["a", "接受当前条目，跳到下一条未审核的"],
  ["x", "退回当前条目"],
  ["e", "编辑当前条目的摘要"],
  ["s", "保存为新版本（按侧栏所选的状态）"],
  ["摘要框中 Enter", "接受当前条目（连同改动）"],
  ["?", "显示 / 隐藏快捷键"],
  ["点击高亮", "在右侧编辑该条目"],
  ["选中原文", "添加为遗漏条目"],
];

// Each report's text, kept for the page's life: Python sends it once, then only offsets.
const TEXTS = new Map();
// Each report's editor fields by item id ({fv, fields}): Python sends an item's fields only
// when their version `fv` changed since it last sent them.
const FIELDS = new Map();

// The items with every item's fields filled in from those kept; null when one is missing
// (then Python is asked to send everything again, as for a missing text).
function withFields(data) {
  if (!FIELDS.has(data.doc)) FIELDS.set(data.doc, new Map());
  const kept = FIELDS.get(data.doc);
  const items = [];
  for (const item of data.items) {
    if (item.fields !== undefined) {
      kept.set(item.id, { fv: item.fv, fields: item.fields });
      items.push(item);
      continue;
    }
    const held = kept.get(item.id);
    if (!held || held.fv !== item.fv) return null;
    items.push({ ...item, fields: held.fields });
  }
  return items;
}

function labelOf(data, item) {
  return `${data.short[item.list]} 第${item.position + 1}条`;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function codePointLength(s) {
  let n = 0;
  for (const _ of s) n += 1;
  return n;
}

// UTF-16 index of every code-point offset (only needed when the text has astral characters).
function codeUnitIndex(text) {
  const index = [0];
  let at = 0;
  for (const ch of text) {
    at += ch.length;
    index.push(at);
  }
  return index;
}

function skeleton(root) {
  const pane = el("div", "rv-pane");
  const bar = el("div", "rv-bar");
  const legend = el("span", "rv-legend");
  const current = el("span", "rv-current");
  const helpButton = el("button", "rv-help-button", "快捷键 ?");
  helpButton.type = "button";
  bar.append(el("strong", "rv-title", "报告原文"), legend, current, helpButton);
  const addBar = el("div", "rv-addbar");
  addBar.hidden = true;
  const addInfo = el("span", "rv-add-info");
  const addList = el("select", "rv-add-list");
  addList.setAttribute("aria-label", "添加到列表");
  const addButton = el("button", "rv-add-button", "添加为遗漏条目");
  addButton.type = "button";
  const addCancel = el("button", "rv-add-cancel", "取消");
  addCancel.type = "button";
  addBar.append(addInfo, addList, addButton, addCancel);
  const help = el("div", "rv-help");
  help.hidden = true;
  help.setAttribute("role", "dialog");
  help.setAttribute("aria-label", "快捷键");
  const table = el("table");
  for (const [key, what] of HELP) {
    const row = el("tr");
    row.append(el("th", "", key), el("td", "", what));
    table.append(row);
  }
  help.append(el("div", "rv-help-title", "快捷键（光标不在输入框时有效）"), table);
  const scroller = el("div", "rv-scroll");
  const source = el("div", "rv-source");
  scroller.append(source);
  pane.append(bar, addBar, help, scroller);
  const editorHost = el("div", "rv-editor");
  const layout = el("div", "rv-layout");
  layout.append(pane, editorHost);
  root.append(layout);
  return {
    pane, legend, current, helpButton, addBar, addInfo, addList, addButton, addCancel, help, scroller, source,
    editorHost,
  };
}

// The text as text nodes and <mark> elements, one per run of characters covered by the same
// items; each mark names its items (data-ids) and its owner (the innermost item).
function buildSource(ui, data, text) {
  const items = data.items;
  const located = items.filter((it) => it.start !== null && it.end !== null && it.end > it.start);
  const length = codePointLength(text);
  const units = length === text.length ? null : codeUnitIndex(text);
  const slice = (a, b) => (units ? text.slice(units[a], units[b]) : text.slice(a, b));
  const bounds = new Set([0, length]);
  for (const it of located) {
    bounds.add(Math.min(it.start, length));
    bounds.add(Math.min(it.end, length));
  }
  const cuts = [...bounds].sort((a, b) => a - b);
  const marks = new Map();
  const fragment = document.createDocumentFragment();
  for (let i = 0; i + 1 < cuts.length; i += 1) {
    const [a, b] = [cuts[i], cuts[i + 1]];
    const covering = located.filter((it) => it.start <= a && it.end >= b);
    if (!covering.length) {
      fragment.append(document.createTextNode(slice(a, b)));
      continue;
    }
    covering.sort((p, q) => q.start - p.start || p.end - q.end);
    const owner = covering[0];
    const mark = el("mark", `rv-mark rv-${owner.list}${owner.position % 2 ? " rv-alt" : ""}`, slice(a, b));
    mark.dataset.ids = covering.map((it) => it.id).join(" ");
    mark.dataset.owner = owner.id;
    mark.title = labelOf(data, owner);
    if (a === owner.start) mark.classList.add("rv-first");
    if (b === owner.end) mark.classList.add("rv-last");
    for (const it of covering) {
      if (!marks.has(it.id)) marks.set(it.id, []);
      marks.get(it.id).push(mark);
    }
    fragment.append(mark);
  }
  ui.source.textContent = "";
  ui.source.append(fragment);
  return marks;
}

function visible(node) {
  return node.offsetParent !== null;
}

function scrollIntoPane(scroller, first) {
  const box = scroller.getBoundingClientRect();
  const r = first.getBoundingClientRect();
  if (r.top >= box.top + 4 && r.bottom <= box.bottom - 4) return;
  const margin = Math.max(0, Math.min(box.height / 3, box.height - r.height) - 8);
  scroller.scrollTop += r.top - box.top - margin;
}

function makePane(root) {
  const ui = skeleton(root);
  const pane = {
    ui,
    data: null,
    setStateValue: null,
    structureKey: null,
    marks: new Map(),
    states: new Map(),
    focus: null,
    queue: [],
    seq: 0,
    blockedUntil: 0,
    selection: null,
  };

  pane.itemById = (id) => pane.data.items.find((it) => it.id === id);

  pane.currentLabel = (id) => {
    const item = id ? pane.itemById(id) : null;
    return item ? `当前：${labelOf(pane.data, item)}` : "";
  };

  pane.showFocus = (id, scroll) => {
    for (const mark of ui.source.querySelectorAll("mark.rv-focus")) mark.classList.remove("rv-focus");
    pane.focus = id;
    ui.current.textContent = pane.currentLabel(id);
    const marks = (id && pane.marks.get(id)) || [];
    for (const mark of marks) mark.classList.add("rv-focus");
    pane.editor.show(id);
    if (scroll && marks.length) scrollIntoPane(ui.scroller, marks[0]);
  };

  // Only marks whose state changed are written: a rerun that decided one item then costs
  // the browser one style change, not one per mark of the report.
  pane.showStates = () => {
    for (const [id, marks] of pane.marks) {
      const state = pane.states.get(id) || "open";
      for (const mark of marks) {
        if (mark.dataset.owner !== id || mark.dataset.state === state) continue;
        mark.dataset.state = state;
      }
    }
  };

  pane.send = (action) => {
    pane.seq = Math.max(pane.seq + 1, Date.now());
    pane.queue.push({ ...action, seq: pane.seq });
    pane.setStateValue("actions", pane.queue.slice());
    return pane.seq;
  };

  pane.focusItem = (id) => {
    const item = pane.itemById(id);
    if (!item) return;
    pane.showFocus(id, true);
    pane.send({ kind: "focus", list: item.list, position: item.position });
  };

  pane.currentList = () => {
    const item = pane.focus ? pane.itemById(pane.focus) : null;
    return item ? item.list : pane.emptyList || pane.data.list;
  };

  pane.step = (delta) => {
    const list = pane.currentList();
    const order = pane.data.order[list] || [];
    if (!order.length) return;
    const item = pane.focus ? pane.itemById(pane.focus) : null;
    const at = item ? order.indexOf(item.position) : -1;
    const next = at < 0 ? order[0] : order[(at + delta + order.length) % order.length];
    pane.focusItem(`${list}:${next}`);
  };

  // Accept, fix or reject the focused item: shown at once (the next undecided item comes
  // up), applied and checked by Python when the action arrives. Accept and fix carry the
  // editor's fields when the reviewer changed any (the draft waits in flight for the ack).
  pane.decide = (kind) => {
    const item = pane.focus ? pane.itemById(pane.focus) : null;
    if (!item) return;
    const action = { kind, list: item.list, position: item.position };
    if (kind !== "reject") {
      const edit = pane.editor.editFor(item, kind === "fix");
      if (edit) action.edit = edit;
    }
    const seq = pane.send(action);
    pane.editor.sent(seq, item);
    if (kind === "reject" && item.state === "added") {
      pane.blockedUntil = seq; // positions after it shift: wait for Python's view
      return;
    }
    const decided = { accept: "accepted", fix: "fixed", reject: "rejected" }[kind];
    pane.states.set(item.id, item.state === "added" && kind !== "reject" ? "added" : decided);
    pane.showStates();
    const order = pane.data.order[item.list] || [];
    const at = order.indexOf(item.position);
    for (let step = 1; step < order.length; step += 1) {
      const id = `${item.list}:${order[(at + step) % order.length]}`;
      if ((pane.states.get(id) || "open") === "open") {
        pane.showFocus(id, true);
        return;
      }
    }
    pane.editor.shownKey = null;
    pane.editor.show(pane.focus); // nothing left undecided: the decided item stays
  };

  pane.onKey = (event) => {
    if (!pane.data || event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.composedPath()[0] || event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT|BUTTON)$/.test(target.tagName))) return;
    if (event.key === "Escape") {
      ui.help.hidden = true;
      ui.addBar.hidden = true;
      return;
    }
    if (event.key === "?") {
      ui.help.hidden = !ui.help.hidden;
    } else if (pane.blockedUntil > pane.data.ack && "jkax".includes(event.key)) {
      // An added item was dropped and positions are shifting: this key waits for the rerun.
    } else if (event.key === "j") {
      pane.step(1);
    } else if (event.key === "k") {
      pane.step(-1);
    } else if (event.key === "a") {
      pane.decide("accept");
    } else if (event.key === "x") {
      pane.decide("reject");
    } else if (event.key === "e") {
      const field = [...document.querySelectorAll('input[aria-label="摘要"]')].find(visible);
      if (!field) return;
      field.focus();
      field.select();
    } else if (event.key === "s") {
      const pending = pane.editor.pendingIds();
      if (pending.length) {
        // Typing not sent yet would be left out of the version: the reviewer decides it first.
        const names = pending.map((item) => labelOf(pane.data, item)).join("、");
        pane.editor.showNotices([["error", `${names}有尚未提交的修改：请先按 Enter（接受）或点「修改 ✎」，再保存。`]]);
      } else {
        pane.send({ kind: "save" }); // saved in the pane's own rerun: only the outcome is redrawn
      }
    } else {
      return;
    }
    event.preventDefault();
  };

  // Offsets of the selection in code points from the start of the text (Python's offsets).
  pane.selectionOffsets = () => {
    const selection = window.getSelection();
    if (!selection || selection.isCollapsed || !selection.rangeCount) return null;
    const range = selection.getRangeAt(0);
    if (!ui.source.contains(range.startContainer) || !ui.source.contains(range.endContainer)) return null;
    const before = document.createRange();
    before.setStart(ui.source, 0);
    before.setEnd(range.startContainer, range.startOffset);
    const start = codePointLength(before.toString());
    const end = start + codePointLength(range.toString());
    return end > start ? { start, end } : null;
  };

  ui.source.addEventListener("mouseup", () => {
    const offsets = pane.selectionOffsets();
    if (!offsets) return;
    pane.selection = offsets;
    ui.addList.value = pane.currentList();
    ui.addInfo.textContent = `已选中 ${offsets.end - offsets.start} 个字，添加到：`;
    ui.addBar.hidden = false;
  });
  ui.source.addEventListener("click", (event) => {
    const selection = window.getSelection();
    if (selection && !selection.isCollapsed) return;
    const mark = event.target.closest("mark.rv-mark");
    if (!mark) return;
    const ids = mark.dataset.ids.split(" ");
    const at = ids.indexOf(pane.focus);
    // Clicking the focused item where items overlap moves on to the next one underneath.
    pane.focusItem(at >= 0 && ids.length > 1 ? ids[(at + 1) % ids.length] : mark.dataset.owner);
  });
  ui.addButton.addEventListener("click", () => {
    if (!pane.selection) return;
    pane.send({ kind: "add", list: ui.addList.value, ...pane.selection });
    pane.selection = null;
    ui.addBar.hidden = true;
    window.getSelection().removeAllRanges();
  });
  ui.addCancel.addEventListener("click", () => {
    pane.selection = null;
    ui.addBar.hidden = true;
  });
  ui.helpButton.addEventListener("click", () => {
    ui.help.hidden = !ui.help.hidden;
  });
  document.addEventListener("keydown", pane.onKey);
  pane.editor = makeEditor(pane, ui.editorHost);
  return pane;
}

function update(pane, sent, setStateValue) {
  const { ui } = pane;
  pane.setStateValue = setStateValue;
  pane.queue = pane.queue.filter((action) => action.seq > sent.ack);
  if (sent.text !== null) TEXTS.set(sent.doc, { text: sent.text, length: codePointLength(sent.text) });
  const held = TEXTS.get(sent.doc);
  const text = held && held.length === sent.length ? held.text : undefined;
  const items = text === undefined ? null : withFields(sent);
  const data = { ...sent, items: items || [] };
  pane.data = data;
  if (items === null) {
    TEXTS.delete(data.doc);
    FIELDS.delete(data.doc);
    setStateValue("have", null); // Python thought the text (or fields) were here: ask again
    return;
  }
  if (data.text !== null) setStateValue("have", data.doc);
  const structureKey = `${data.doc}|${data.length}|${data.items.map((it) => `${it.id}@${it.start}-${it.end}`).join(",")}`;
  const rebuilt = structureKey !== pane.structureKey;
  if (rebuilt) {
    pane.marks = buildSource(ui, data, text);
    pane.structureKey = structureKey;
    ui.addList.textContent = "";
    for (const [value, label] of Object.entries(data.lists)) {
      const option = el("option", "", label);
      option.value = value;
      ui.addList.append(option);
    }
    ui.legend.textContent = "";
    for (const [value, label] of Object.entries(data.lists)) {
      ui.legend.append(el("mark", `rv-mark rv-${value} rv-swatch`, label));
    }
  }
  if (pane.queue.length) {
    // The reviewer is ahead of Python: keep the pane's own view (edits acknowledged so far
    // settle; Python's messages wait for the state that answers the last action).
    pane.editor.settle(data);
    pane.editor.showTop();
    return;
  }
  pane.editor.settle(data);
  pane.states = new Map(data.items.map((it) => [it.id, it.state]));
  for (const it of data.items) {
    for (const mark of pane.marks.get(it.id) || []) {
      if (mark.classList.contains("rv-flagged") !== it.flagged) mark.classList.toggle("rv-flagged", it.flagged);
    }
  }
  pane.showStates();
  pane.emptyList = null;
  if (rebuilt || data.focus !== pane.focus) pane.showFocus(data.focus, true);
  else if (ui.current.textContent !== pane.currentLabel(data.focus)) {
    ui.current.textContent = pane.currentLabel(data.focus);
  }
  pane.editor.showNotices(data.notices || []);
  pane.editor.show(pane.focus);
}

export default function (component) {
  const { data, parentElement, setStateValue } = component;
  let root = parentElement.querySelector(".rv-root");
  if (!root) {
    root = el("div", "rv-root");
    parentElement.append(root);
  }
  if (!root.rvPane) root.rvPane = makePane(root);
  update(root.rvPane, data, setStateValue);
  return () => {
    document.removeEventListener("keydown", root.rvPane.onKey);
    root.rvPane = null;
    root.remove();
  };
}
