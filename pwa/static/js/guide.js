// The Wegweiser on the phone: the directory and the how-tos drawn from the synced copy and
// searched here, offline too; and the visit form's links to it (the place as a directory
// entry, the advice centres that fit a visit needing professional help). Every sentence comes
// from the page's templates or its strings.

function folded(text) {
  return String(text || "").normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();
}

function slot(node, name) {
  return node.querySelector(`[data-slot="${name}"]`);
}

function day(value, locale) {
  if (!value) {
    return "";
  }
  const [year, month, date] = value.split("-").map(Number);
  return new Intl.DateTimeFormat(locale, { dateStyle: "medium" }).format(new Date(year, month - 1, date));
}

export function directoryEntries(records) {
  return records.filter((r) => r.entity === "directory_entry" && !r.deleted)
    .sort((a, b) => a.fields.name.localeCompare(b.fields.name));
}

function entryText(entry, strings) {
  const f = entry.fields;
  return folded([f.name, strings.place_types[f.category], f.address, f.phone, f.opening_hours, f.bring, f.notes,
    ...(f.languages || []).map((code) => strings.languages[code] || code),
    ...(f.help_kinds || []).map((kind) => strings.help_kinds[kind] || kind)].join(" "));
}

function howtoText(howto, strings, byId) {
  const f = howto.fields;
  return folded([f.title, f.body, ...(f.checklist || []), ...(f.entry_ids || []).map((id) => byId.get(id)?.fields.name),
    ...(f.topics || []).map((code) => strings.topics[code] || code)].join(" "));
}

function matches(text, words) {
  return words.every((word) => text.includes(word));
}

function fill(node, name, value) {
  const row = node.querySelector(`[data-row="${name}"]`);
  if (row) {
    row.hidden = !value;
  }
  if (value) {
    slot(node, name).textContent = value;
  }
}

function entryItem(template, entry, strings) {
  const node = template.content.firstElementChild.cloneNode(true);
  const f = entry.fields;
  node.dataset.entry = entry.id;
  slot(node, "name").textContent = f.name;
  slot(node, "meta").textContent = [strings.place_types[f.category], f.address].filter(Boolean).join(" · ");
  fill(node, "opening_hours", f.opening_hours);
  fill(node, "languages", (f.languages || []).map((code) => strings.languages[code] || code).join(", "));
  fill(node, "help_kinds", (f.help_kinds || []).map((kind) => strings.help_kinds[kind] || kind).join(", "));
  fill(node, "bring", f.bring);
  fill(node, "notes", f.notes);
  fill(node, "last_checked", day(f.last_checked, strings.locale));
  const call = slot(node, "call");
  call.hidden = !f.phone;
  call.href = `tel:${String(f.phone || "").replace(/[^\d+]/g, "")}`;
  call.textContent = `${call.textContent} ${f.phone || ""}`.trim();
  const map = slot(node, "map");
  map.hidden = !f.address;
  map.href = `https://www.openstreetmap.org/search?query=${encodeURIComponent(f.address || "")}`;
  slot(node, "suggest").href = `/directory/${entry.id}`;
  return node;
}

function howtoItem(template, howto, byId, entryTemplate, strings) {
  const node = template.content.firstElementChild.cloneNode(true);
  const f = howto.fields;
  node.dataset.howto = howto.id;
  slot(node, "title").textContent = f.title;
  slot(node, "body").textContent = f.body;
  const checklist = f.checklist || [];
  node.querySelector("[data-row=checklist]").hidden = !checklist.length;
  slot(node, "checklist").replaceChildren(...checklist.map((item) => {
    const li = document.createElement("li");
    li.textContent = item;
    return li;
  }));
  const linked = (f.entry_ids || []).map((id) => byId.get(id)).filter(Boolean);
  node.querySelector("[data-row=entries]").hidden = !linked.length;
  slot(node, "entries").replaceChildren(...linked.map((entry) => entryItem(entryTemplate, entry, strings)));
  return node;
}

// The guide page: everything on the phone, narrowed as the volunteer types.
export function renderGuide(records, strings) {
  const root = document.querySelector("[data-guide]");
  if (!root) {
    return;
  }
  const input = root.querySelector("[data-guide-search]");
  if (!input.dataset.started) {  // a link from the visit form names what to look for
    input.dataset.started = "true";
    input.value = new URLSearchParams(location.search).get("q") || "";
  }
  const entries = directoryEntries(records);
  const howtos = records.filter((r) => r.entity === "howto" && !r.deleted)
    .sort((a, b) => a.fields.title.localeCompare(b.fields.title));
  const byId = new Map(entries.map((entry) => [entry.id, entry]));
  const draw = () => {
    const words = folded(input.value).split(/\s+/).filter(Boolean);
    const shownEntries = entries.filter((entry) => matches(entryText(entry, strings), words));
    const shownHowtos = howtos.filter((howto) => matches(howtoText(howto, strings, byId), words));
    const entryTemplate = document.getElementById("entry-item");
    document.querySelector("[data-entry-list]").replaceChildren(
      ...shownEntries.map((entry) => entryItem(entryTemplate, entry, strings)));
    document.querySelector("[data-howto-list]").replaceChildren(
      ...shownHowtos.map((howto) => howtoItem(document.getElementById("howto-item"), howto, byId, entryTemplate, strings)));
    document.querySelector("[data-entries]").hidden = !shownEntries.length;
    document.querySelector("[data-howtos]").hidden = !shownHowtos.length;
    document.querySelector("[data-guide-empty]").hidden = entries.length + howtos.length > 0;
    document.querySelector("[data-no-match]").hidden = !(entries.length + howtos.length) || shownEntries.length + shownHowtos.length > 0;
  };
  input.oninput = draw;  // set, not added: a redraw after a sync keeps one listener
  draw();
}

// The visit form: its place chosen from the directory, the how-tos for its type of place and
// topics, and the advice centres that fit.
export function fillDirectoryChoice(form, records) {
  const select = form.elements.directory_entry_id;
  if (!select) {
    return;
  }
  wireHowtoHints(form, records);
  const entries = directoryEntries(records);
  const keep = select.value;
  select.replaceChildren(select.options[0], ...entries.map((entry) => {
    const option = document.createElement("option");
    option.value = entry.id;
    option.textContent = entry.fields.address ? `${entry.fields.name} · ${entry.fields.address}` : entry.fields.name;
    return option;
  }));
  select.value = keep;
  select.addEventListener("change", () => {
    const entry = entries.find((candidate) => candidate.id === select.value);
    if (!entry) {
      return;
    }
    if (!form.elements.place_name.value) {
      form.elements.place_name.value = entry.fields.name;
    }
    const type = [...form.querySelectorAll("input[name=place_type]")].find((radio) => radio.value === entry.fields.category);
    if (type) {
      type.checked = true;
    }
  });
  const centres = document.querySelector("[data-help-centres]");
  if (!centres) {
    return;
  }
  const showCentres = () => {
    const kind = form.querySelector("input[name=help_kind]:checked")?.value;
    const fitting = kind ? entries.filter((entry) => (entry.fields.help_kinds || []).includes(kind)) : [];
    centres.querySelector("ul").replaceChildren(...fitting.map((entry) => {
      const li = document.createElement("li");
      const link = document.createElement("a");
      link.href = `tel:${String(entry.fields.phone || "").replace(/[^\d+]/g, "")}`;
      link.textContent = [entry.fields.name, entry.fields.phone].filter(Boolean).join(" · ");
      li.append(link);
      return li;
    }));
    centres.hidden = !kind;
    centres.querySelector("[data-none]").hidden = fitting.length > 0;
  };
  for (const radio of form.querySelectorAll("input[name=help_kind]")) {
    radio.addEventListener("change", showCentres);
  }
  form.addEventListener("lotsenbuch:filled", showCentres);
}

function wireHowtoHints(form, records) {
  const hints = document.querySelector("[data-howto-hints]");
  if (!hints) {
    return;
  }
  const howtos = records.filter((r) => r.entity === "howto" && !r.deleted);
  const show = () => {
    const type = form.querySelector("input[name=place_type]:checked")?.value;
    const topics = [...form.querySelectorAll("input[name=topics]:checked")].map((box) => box.value);
    const fitting = howtos.filter((howto) => (howto.fields.place_types || []).includes(type)
      || (howto.fields.topics || []).some((topic) => topics.includes(topic)));
    hints.querySelector("ul").replaceChildren(...fitting.map((howto) => {
      const li = document.createElement("li");
      const link = document.createElement("a");
      link.href = `/guide?q=${encodeURIComponent(howto.fields.title)}`;
      link.textContent = howto.fields.title;
      li.append(link);
      return li;
    }));
    hints.hidden = !fitting.length;
  };
  form.addEventListener("change", show);
  form.addEventListener("lotsenbuch:filled", show);
}
