// Screenshots before they leave the browser: crop to the part that matters and black out
// names and numbers, on a canvas. The edited image replaces the chosen file in the form's file
// input, so the form posts only the edited pixels (the server cleans every image again).
(function () {
  "use strict";

  function setup(field) {
    if (field.dataset.ready) return;
    field.dataset.ready = "1";
    var input = field.querySelector("input[type=file]");
    var list = field.querySelector("[data-shot-list]");
    var dialog = field.querySelector("[data-shot-editor]");
    var canvas = dialog.querySelector("[data-shot-canvas]");
    var ctx = canvas.getContext("2d");
    var files = [];
    var edited = new Set();
    var editor = null; // {index, bitmap, mode, crop, boxes, drag}

    function sync() {
      var transfer = new DataTransfer();
      files.forEach(function (f) { transfer.items.add(f); });
      input.files = transfer.files;
    }

    function thumbnail(file, into) {
      createImageBitmap(file).then(function (bitmap) {
        var scale = Math.min(1, 96 / Math.max(bitmap.width, bitmap.height));
        into.width = Math.max(1, Math.round(bitmap.width * scale));
        into.height = Math.max(1, Math.round(bitmap.height * scale));
        into.getContext("2d").drawImage(bitmap, 0, 0, into.width, into.height);
      }).catch(function () { into.remove(); });
    }

    function render() {
      list.textContent = "";
      files.forEach(function (file, index) {
        var item = document.createElement("li");
        item.className = "shot-item";
        var thumb = document.createElement("canvas");
        thumb.className = "shot-thumb";
        thumb.setAttribute("aria-hidden", "true");
        thumbnail(file, thumb);
        var name = document.createElement("span");
        name.className = "shot-name";
        name.textContent = file.name + (edited.has(file) ? " · " + list.dataset.editedLabel : "");
        var edit = document.createElement("button");
        edit.type = "button";
        edit.className = "button small";
        edit.textContent = list.dataset.editLabel;
        edit.dataset.editShot = String(index);
        edit.addEventListener("click", function () { open(index); });
        var remove = document.createElement("button");
        remove.type = "button";
        remove.className = "button small ghost";
        remove.textContent = list.dataset.removeLabel;
        remove.addEventListener("click", function () {
          files.splice(index, 1);
          sync();
          render();
        });
        item.append(thumb, name, edit, remove);
        list.append(item);
      });
    }

    input.addEventListener("change", function () {
      files = Array.from(input.files);
      render();
    });

    function setMode(mode) {
      editor.mode = mode;
      dialog.querySelectorAll("[data-mode]").forEach(function (b) {
        b.setAttribute("aria-pressed", String(b.dataset.mode === mode));
      });
      dialog.querySelector("[data-hint-crop]").hidden = mode !== "crop";
      dialog.querySelector("[data-hint-redact]").hidden = mode !== "redact";
    }

    function open(index) {
      createImageBitmap(files[index]).then(function (bitmap) {
        editor = { index: index, bitmap: bitmap, mode: "crop", crop: null, boxes: [], drag: null };
        canvas.width = bitmap.width;
        canvas.height = bitmap.height;
        setMode("crop");
        draw();
        dialog.showModal();
      });
    }

    function rectOf(a, b) {
      return {
        x: Math.min(a.x, b.x), y: Math.min(a.y, b.y),
        w: Math.abs(a.x - b.x), h: Math.abs(a.y - b.y)
      };
    }

    function draw() {
      var e = editor;
      ctx.drawImage(e.bitmap, 0, 0);
      ctx.fillStyle = "#000";
      e.boxes.forEach(function (r) { ctx.fillRect(r.x, r.y, r.w, r.h); });
      var live = e.drag ? rectOf(e.drag.from, e.drag.to) : null;
      if (live && e.mode === "redact") ctx.fillRect(live.x, live.y, live.w, live.h);
      var crop = live && e.mode === "crop" ? live : e.crop;
      if (crop) {
        // Dim what the crop leaves out, and outline what it keeps.
        ctx.fillStyle = "rgba(0, 0, 0, 0.45)";
        ctx.fillRect(0, 0, canvas.width, crop.y);
        ctx.fillRect(0, crop.y + crop.h, canvas.width, canvas.height - crop.y - crop.h);
        ctx.fillRect(0, crop.y, crop.x, crop.h);
        ctx.fillRect(crop.x + crop.w, crop.y, canvas.width - crop.x - crop.w, crop.h);
        ctx.strokeStyle = "#ff6900";
        ctx.lineWidth = Math.max(2, canvas.width / 300);
        ctx.strokeRect(crop.x, crop.y, crop.w, crop.h);
      }
    }

    function point(event) {
      var box = canvas.getBoundingClientRect();
      var x = (event.clientX - box.left) * canvas.width / box.width;
      var y = (event.clientY - box.top) * canvas.height / box.height;
      return {
        x: Math.round(Math.min(Math.max(x, 0), canvas.width)),
        y: Math.round(Math.min(Math.max(y, 0), canvas.height))
      };
    }

    canvas.addEventListener("pointerdown", function (event) {
      if (!editor) return;
      event.preventDefault();
      canvas.setPointerCapture(event.pointerId);
      var p = point(event);
      editor.drag = { from: p, to: p };
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!editor || !editor.drag) return;
      editor.drag.to = point(event);
      draw();
    });
    canvas.addEventListener("pointerup", function (event) {
      if (!editor || !editor.drag) return;
      editor.drag.to = point(event);
      var r = rectOf(editor.drag.from, editor.drag.to);
      editor.drag = null;
      if (r.w >= 4 && r.h >= 4) {
        if (editor.mode === "crop") editor.crop = r;
        else editor.boxes.push(r);
      }
      draw();
    });

    dialog.querySelectorAll("[data-mode]").forEach(function (b) {
      b.addEventListener("click", function () { setMode(b.dataset.mode); });
    });
    dialog.querySelector("[data-undo]").addEventListener("click", function () {
      if (editor.mode === "redact" && editor.boxes.length) editor.boxes.pop();
      else if (editor.crop) editor.crop = null;
      else editor.boxes.pop();
      draw();
    });
    dialog.querySelector("[data-cancel]").addEventListener("click", function () {
      dialog.close();
      editor = null;
    });
    dialog.querySelector("[data-apply]").addEventListener("click", function () {
      var e = editor;
      var crop = e.crop || { x: 0, y: 0, w: e.bitmap.width, h: e.bitmap.height };
      var out = document.createElement("canvas");
      out.width = crop.w;
      out.height = crop.h;
      var octx = out.getContext("2d");
      octx.drawImage(e.bitmap, -crop.x, -crop.y);
      octx.fillStyle = "#000";
      e.boxes.forEach(function (r) { octx.fillRect(r.x - crop.x, r.y - crop.y, r.w, r.h); });
      out.toBlob(function (blob) {
        var name = files[e.index].name.replace(/\.[^.]*$/, "") + ".png";
        var file = new File([blob], name, { type: "image/png" });
        files[e.index] = file;
        edited.add(file);
        sync();
        render();
        dialog.close();
        editor = null;
        field.dispatchEvent(new CustomEvent("screenshot-edited", { bubbles: true }));
      }, "image/png");
    });
  }

  function start() {
    document.querySelectorAll("[data-screenshots]").forEach(setup);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
