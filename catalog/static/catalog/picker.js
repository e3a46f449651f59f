/* Event Catalog: an accessible search-as-you-type multi-select ("picker").
 *
 * Upgrades every <select multiple data-picker="KIND"> (KIND: owners, teams, tags, collections)
 * on the page, and in content htmx swaps in later:
 *   - the chosen options become chips, each with a "Remove NAME" button;
 *   - a combobox (ARIA 1.2: role=combobox, aria-expanded, aria-controls,
 *     aria-activedescendant, a listbox of options) filters the select's own options as one
 *     types and, with data-picker-url, asks that JSON endpoint for more (`?q=`);
 *   - keys: Down/Up move through the list, Enter adds, Escape closes (then clears),
 *     Backspace in the empty field removes the last chip;
 *   - a polite live region says what happened: "revenue added", "3 results";
 *   - tags show their colour (an option's data-color) as a swatch; with
 *     data-picker-create="URL" a "Create tag “foo”" option POSTs title=foo there and selects
 *     the new tag.
 * The select stays the form's source of truth (hidden, its options selected or not): the form
 * submits the same with or without this script. Choosing only ever adds; only a chip's button
 * or Backspace removes, so no click drops what was chosen.
 */
(function () {
  "use strict";

  var WORDS = {
    owners: ["person", "people"],
    teams: ["team", "teams"],
    tags: ["tag", "tags"],
    collections: ["collection", "collections"]
  };
  /* At most this many options are listed at once; typing narrows them. */
  var SHOWN = 50;
  var counter = 0;

  function make(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text) node.textContent = text;
    return node;
  }

  function fold(text) {
    return (text || "").toLocaleLowerCase().normalize("NFKD").replace(/[\u0300-\u036f]/g, "");
  }

  function plural(count, words) {
    return count + " " + (count === 1 ? words[0] : words[1]);
  }

  function csrfToken(form) {
    var field = (form && form.querySelector("input[name=csrfmiddlewaretoken]")) ||
      document.querySelector("input[name=csrfmiddlewaretoken]");
    if (field) return field.value;
    var headers = document.body.getAttribute("hx-headers");
    if (headers) {
      try { return JSON.parse(headers)["X-CSRFToken"] || ""; } catch (e) { /* none */ }
    }
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function swatch(color) {
    var dot = make("span", { "class": "dot", "aria-hidden": "true" });
    dot.style.backgroundColor = color;
    return dot;
  }

  function Picker(select) {
    this.select = select;
    this.kind = select.getAttribute("data-picker");
    this.words = WORDS[this.kind] || ["item", "items"];
    this.url = select.getAttribute("data-picker-url");
    this.createUrl = select.getAttribute("data-picker-create");
    this.items = [];
    this.active = -1;
    this.remote = {};
    this.remoteFor = null;
    this.build();
    this.renderChips();
  }

  Picker.prototype.build = function () {
    var select = this.select;
    counter += 1;
    if (!select.id) select.id = "picker-" + counter;
    var base = select.id + "-picker";
    var label = select.id ? document.querySelector('label[for="' + CSS.escape(select.id) + '"]') : null;
    var labelText = label ? label.textContent.trim()
      : select.getAttribute("aria-label") || select.getAttribute("title") || this.words[1];
    this.labelText = labelText;

    this.box = make("div", { "class": "picker", "data-kind": this.kind });
    this.chips = make("ul", { "class": "picker-chips", "aria-label": "Chosen: " + labelText });
    this.combo = make("div", { "class": "picker-combo" });
    this.input = make("input", {
      type: "text",
      id: base,
      "class": "picker-input",
      role: "combobox",
      "aria-expanded": "false",
      "aria-controls": base + "-listbox",
      "aria-autocomplete": "list",
      autocomplete: "off",
      spellcheck: "false",
      maxlength: "100",
      placeholder: "Type to find " + this.words[1] + "…"
    });
    this.listbox = make("ul", {
      id: base + "-listbox",
      role: "listbox",
      "class": "picker-listbox",
      "aria-multiselectable": "true"
    });
    this.listbox.hidden = true;
    this.hint = make("span", { id: base + "-hint", "class": "visually-hidden" },
      "Type to search, Down arrow to browse, Enter to add. Backspace in the empty field removes the last one.");
    this.note = make("p", { "class": "picker-note", id: base + "-note" });
    this.note.hidden = true;
    this.live = make("div", { "class": "visually-hidden picker-live", "aria-live": "polite", "aria-atomic": "true" });

    // The label names the combobox (and focuses it when clicked); the listbox shares it.
    if (label) {
      if (!label.id) label.id = base + "-label";
      label.htmlFor = this.input.id;
      this.listbox.setAttribute("aria-labelledby", label.id);
    } else if (select.getAttribute("aria-labelledby")) {
      this.input.setAttribute("aria-labelledby", select.getAttribute("aria-labelledby"));
      this.listbox.setAttribute("aria-labelledby", select.getAttribute("aria-labelledby"));
    } else {
      this.input.setAttribute("aria-label", labelText);
      this.listbox.setAttribute("aria-label", labelText);
    }
    if (select.required) {
      // A hidden control can't be focused to show the browser's message: the server says it.
      this.input.setAttribute("aria-required", "true");
      select.required = false;
    }
    var described = (select.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean);
    described.push(this.hint.id);
    this.input.setAttribute("aria-describedby", described.join(" "));
    if (select.getAttribute("aria-invalid")) this.input.setAttribute("aria-invalid", select.getAttribute("aria-invalid"));
    if (select.disabled) this.input.disabled = true;

    this.combo.append(this.input, this.listbox);
    this.box.append(this.chips, this.combo, this.note, this.hint, this.live);
    select.parentNode.insertBefore(this.box, select.nextSibling);
    select.hidden = true;
    select.setAttribute("aria-hidden", "true");
    select.tabIndex = -1;
    select.classList.add("picker-source");

    var self = this;
    this.input.addEventListener("input", function () { self.onInput(); });
    this.input.addEventListener("keydown", function (event) { self.onKey(event); });
    this.input.addEventListener("click", function () { if (!self.isOpen()) self.open(); });
    this.input.addEventListener("blur", function () { self.close(); });
    // Clicking the list keeps the focus in the field.
    this.listbox.addEventListener("mousedown", function (event) { event.preventDefault(); });
    this.listbox.addEventListener("click", function (event) {
      var option = event.target.closest("[role=option]");
      if (option) self.choose(Number(option.getAttribute("data-index")));
    });
    this.chips.addEventListener("click", function (event) {
      var button = event.target.closest("button.chip-remove");
      if (button) self.remove(button.getAttribute("data-value"), true);
    });
    select.addEventListener("change", function () { self.renderChips(); });
    window.addEventListener("pageshow", function () { self.renderChips(); });
  };

  Picker.prototype.options = function () {
    return Array.prototype.filter.call(this.select.options, function (option) {
      return option.value !== "";
    });
  };

  Picker.prototype.optionFor = function (value) {
    return this.options().find(function (option) { return option.value === value; }) || null;
  };

  Picker.prototype.itemOf = function (option) {
    return {
      value: option.value,
      label: option.textContent.trim(),
      hint: option.getAttribute("data-hint") || "",
      color: option.getAttribute("data-color") || "",
      selected: option.selected
    };
  };

  Picker.prototype.say = function (text) {
    var live = this.live;
    // What just happened ("editor is already chosen.") supersedes a count still waiting.
    clearTimeout(this.countTimer);
    clearTimeout(this.sayTimer);
    live.textContent = "";
    // A moment later, so that the same words twice are announced twice.
    this.sayTimer = setTimeout(function () { live.textContent = text; }, 50);
  };

  Picker.prototype.showNote = function (text, isError) {
    this.note.textContent = text || "";
    this.note.hidden = !text;
    this.note.classList.toggle("error", !!isError);
  };

  Picker.prototype.renderChips = function () {
    var self = this;
    this.chips.textContent = "";
    this.options().forEach(function (option) {
      if (!option.selected) return;
      var item = self.itemOf(option);
      var chip = make("li", { "class": "picker-chip" });
      if (item.color) chip.append(swatch(item.color));
      chip.append(make("span", { "class": "chip-label" }, item.label));
      var button = make("button", {
        type: "button",
        "class": "chip-remove",
        "data-value": item.value,
        "aria-label": "Remove " + item.label
      });
      button.append(make("span", { "aria-hidden": "true" }, "×"));
      chip.append(button);
      self.chips.append(chip);
    });
    this.chips.hidden = !this.chips.children.length;
  };

  Picker.prototype.query = function () {
    return this.input.value.trim();
  };

  Picker.prototype.matches = function () {
    var text = fold(this.query());
    var self = this;
    var starts = [];
    var contains = [];
    var seen = {};
    function consider(item) {
      if (seen[item.value]) return;
      seen[item.value] = true;
      var hay = fold(item.label + " " + item.hint);
      if (!text) { starts.push(item); return; }
      var words = fold(item.label).split(/\s+/).concat(fold(item.hint).split(/\s+/));
      if (fold(item.label).indexOf(text) === 0 || words.some(function (w) { return w.indexOf(text) === 0; })) {
        starts.push(item);
      } else if (hay.indexOf(text) !== -1) {
        contains.push(item);
      }
    }
    this.options().forEach(function (option) { consider(self.itemOf(option)); });
    if (this.remoteFor === this.query()) {
      (this.remote[this.remoteFor] || []).forEach(function (found) {
        consider({ value: found.value, label: found.label, hint: found.hint || "", color: found.color || "", selected: false });
      });
    }
    return starts.concat(contains);
  };

  Picker.prototype.isOpen = function () {
    return !this.listbox.hidden;
  };

  Picker.prototype.open = function () {
    this.render(true);
  };

  Picker.prototype.close = function () {
    this.listbox.hidden = true;
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
    this.active = -1;
    this.showNote("");
  };

  Picker.prototype.render = function (announce) {
    var self = this;
    var text = this.query();
    var found = this.matches();
    var total = found.length;
    this.items = found.slice(0, SHOWN);
    var exact = found.some(function (item) { return fold(item.label) === fold(text); });
    if (this.createUrl && text && !exact) {
      this.items.push({ create: true, label: text });
    }
    this.listbox.textContent = "";
    this.items.forEach(function (item, index) {
      var option = make("li", {
        id: self.listbox.id + "-" + index,
        role: "option",
        "data-index": String(index),
        "aria-selected": item.selected ? "true" : "false"
      });
      if (item.create) {
        option.classList.add("picker-create");
        option.textContent = "Create tag “" + item.label + "”";
      } else {
        option.append(make("span", { "class": "picker-check", "aria-hidden": "true" }, item.selected ? "✓" : ""));
        if (item.color) option.append(swatch(item.color));
        option.append(make("span", { "class": "option-label" }, item.label));
        if (item.hint) option.append(make("span", { "class": "option-hint" }, item.hint));
      }
      self.listbox.append(option);
    });
    if (this.active >= this.items.length) this.active = this.items.length - 1;
    var open = this.items.length > 0;
    this.listbox.hidden = !open;
    this.input.setAttribute("aria-expanded", open ? "true" : "false");
    this.highlight();
    if (!open) {
      this.showNote(text ? "No " + this.words[1] + " match “" + text + "”." : "Nothing to choose from.");
    } else if (total > SHOWN) {
      this.showNote("Showing " + SHOWN + " of " + total + ": type more to narrow them.");
    } else {
      this.showNote("");
    }
    if (announce) this.announceCount(total, text);
  };

  Picker.prototype.announceCount = function (total, text) {
    var self = this;
    clearTimeout(this.countTimer);
    this.countTimer = setTimeout(function () {
      var words = total === 0 ? "No results" : total === 1 ? "1 result" : total + " results";
      if (self.createUrl && text && self.items.length && self.items[self.items.length - 1].create) {
        words += total ? "" : "; press Enter to create tag “" + text + "”";
      }
      self.say(words);
    }, 300);
  };

  Picker.prototype.highlight = function () {
    var self = this;
    Array.prototype.forEach.call(this.listbox.children, function (option, index) {
      option.classList.toggle("active", index === self.active);
    });
    if (this.active >= 0 && this.items.length) {
      var current = this.listbox.children[this.active];
      this.input.setAttribute("aria-activedescendant", current.id);
      current.scrollIntoView({ block: "nearest" });
    } else {
      this.input.removeAttribute("aria-activedescendant");
    }
  };

  Picker.prototype.move = function (step) {
    if (!this.isOpen()) this.render(true);
    if (!this.items.length) return;
    var count = this.items.length;
    if (this.active < 0) this.active = step > 0 ? 0 : count - 1;
    else this.active = (this.active + step + count) % count;
    this.highlight();
  };

  Picker.prototype.onInput = function () {
    this.active = -1;
    this.render(true);
    this.fetchRemote();
  };

  Picker.prototype.fetchRemote = function () {
    var self = this;
    var text = this.query();
    if (!this.url || !text || this.remote[text]) {
      if (this.remote[text]) this.remoteFor = text;
      return;
    }
    clearTimeout(this.fetchTimer);
    this.fetchTimer = setTimeout(function () {
      var address = self.url + (self.url.indexOf("?") === -1 ? "?" : "&") + "q=" + encodeURIComponent(text);
      fetch(address, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (answer) {
          if (!answer || !answer.results) return;
          self.remote[text] = answer.results;
          self.remoteFor = text;
          if (self.query() !== text || document.activeElement !== self.input) return;
          var before = self.items.length;
          var active = self.items[self.active];
          self.render(false);
          if (active) {
            self.active = self.items.findIndex(function (item) { return item.value === active.value && !!item.create === !!active.create; });
            self.highlight();
          }
          if (self.items.length !== before) self.announceCount(self.matches().length, text);
        })
        .catch(function () { /* the select's own options are still listed */ });
    }, 200);
  };

  Picker.prototype.onKey = function (event) {
    var key = event.key;
    if (key === "ArrowDown" || key === "ArrowUp") {
      event.preventDefault();
      if (event.altKey) { if (key === "ArrowDown") this.render(true); else this.close(); return; }
      this.move(key === "ArrowDown" ? 1 : -1);
    } else if (key === "Enter") {
      if (this.isOpen() && this.active >= 0) {
        event.preventDefault();
        this.choose(this.active);
      } else if (this.query()) {
        // Never submit the form half-typed: Enter adds the best match, if there is one.
        event.preventDefault();
        if (!this.isOpen()) this.render(false);
        if (this.items.length) this.choose(0);
      }
    } else if (key === "Escape") {
      if (this.isOpen()) {
        event.preventDefault();
        this.close();
      } else if (this.input.value) {
        event.preventDefault();
        this.input.value = "";
        this.showNote("");
      }
    } else if (key === "Backspace") {
      if (!this.input.value && !event.repeat) {
        var chosen = this.options().filter(function (option) { return option.selected; });
        if (chosen.length) {
          event.preventDefault();
          this.remove(chosen[chosen.length - 1].value, false);
        }
      }
    } else if (key === "Tab") {
      this.close();
    }
  };

  Picker.prototype.changed = function () {
    this.select.dispatchEvent(new Event("change", { bubbles: true }));
    this.renderChips();
  };

  Picker.prototype.chosenCount = function () {
    return this.options().filter(function (option) { return option.selected; }).length;
  };

  Picker.prototype.choose = function (index) {
    var item = this.items[index];
    if (!item) return;
    if (item.create) { this.createTag(item.label); return; }
    var option = this.optionFor(item.value);
    if (option && option.selected) {
      this.say(item.label + " is already chosen.");
      this.input.value = "";
      this.close();
      return;
    }
    if (!option) {
      option = new Option(item.label, item.value);
      if (item.color) option.setAttribute("data-color", item.color);
      if (item.hint) option.setAttribute("data-hint", item.hint);
      this.select.append(option);
    }
    option.selected = true;
    this.input.value = "";
    this.close();
    this.changed();
    this.say(item.label + " added, " + plural(this.chosenCount(), this.words) + " chosen.");
  };

  Picker.prototype.remove = function (value, fromButton) {
    var option = this.optionFor(value);
    if (!option || !option.selected) return;
    var buttons = Array.prototype.slice.call(this.chips.querySelectorAll("button.chip-remove"));
    var position = buttons.findIndex(function (button) { return button.getAttribute("data-value") === value; });
    option.selected = false;
    this.changed();
    var count = this.chosenCount();
    this.say(option.textContent.trim() + " removed, " + (count ? plural(count, this.words) : "no " + this.words[1]) + " chosen.");
    if (fromButton) {
      var left = this.chips.querySelectorAll("button.chip-remove");
      var next = left[Math.min(position, left.length - 1)];
      (next || this.input).focus();
    }
  };

  Picker.prototype.createTag = function (title) {
    var self = this;
    var body = new FormData();
    body.append("title", title);
    this.showNote("Creating tag “" + title + "”…");
    fetch(this.createUrl, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": csrfToken(this.select.form) }
    })
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (answer) {
          return { ok: response.ok, answer: answer };
        });
      })
      .then(function (result) {
        if (!result.ok || !result.answer.value) {
          var reason = result.answer.error || "The tag could not be created.";
          self.showNote(reason, true);
          self.say(reason);
          return;
        }
        var tag = result.answer;
        var option = self.optionFor(tag.value);
        if (!option) {
          option = new Option(tag.label, tag.value);
          if (tag.color) option.setAttribute("data-color", tag.color);
          self.select.append(option);
        }
        option.selected = true;
        self.remote = {};
        self.input.value = "";
        self.close();
        self.changed();
        self.say((result.answer.created ? "Tag “" + tag.label + "” created and added" : tag.label + " added") +
          ", " + plural(self.chosenCount(), self.words) + " chosen.");
      })
      .catch(function () {
        self.showNote("The tag could not be created: the server did not answer.", true);
        self.say("The tag could not be created.");
      });
  };

  function scan(root) {
    var scope = root && root.querySelectorAll ? root : document;
    var selects = scope.querySelectorAll("select[multiple][data-picker]");
    if (scope.matches && scope.matches("select[multiple][data-picker]")) selects = [scope];
    Array.prototype.forEach.call(selects, function (select) {
      if (select.pickerInstance) return;
      select.pickerInstance = new Picker(select);
    });
  }

  window.CatalogPicker = { scan: scan };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { scan(document); });
  } else {
    scan(document);
  }
  document.addEventListener("htmx:load", function (event) { scan(event.target); });
})();
