/* Nocturne's sky views: every div.sky-canvas[data-sky] becomes an Aladin Lite view with our
 * objects as a catalogue (apps/components/sky.py writes the JSON). Aladin Lite is loaded on
 * first use from /assets/vendor/aladin-lite/ (scripts/aladin.sh fetches it), never from a CDN.
 * The state of each view is written on its div for people and tests alike:
 *   data-sky-state = loading | ready | no-webgl | failed, data-sky-sources = points drawn,
 *   data-sky-images = pending | loaded | unavailable | none. */
(function () {
  "use strict";
  var here = document.currentScript ? document.currentScript.src : "/assets/sky.js";
  var ALADIN = new URL("vendor/aladin-lite/aladin.js", here).href;
  var aladinModule = null;

  function loadAladin() {
    if (!aladinModule) {
      aladinModule = import(ALADIN).then(function (m) {
        var A = m.default;
        return A.init.then(function () { return A; });
      });
    }
    return aladinModule;
  }

  function hasWebGL2() {
    try { return !!document.createElement("canvas").getContext("webgl2"); } catch (e) { return false; }
  }

  function say(div, text, state) {
    div.setAttribute("data-sky-state", state);
    var p = document.createElement("p");
    p.className = "sky-message";
    p.setAttribute("role", "status");
    p.textContent = text;
    div.appendChild(p);
  }

  function note(div, text) {
    var p = div.parentNode && div.parentNode.querySelector(".sky-images-note");
    if (!p) {
      p = document.createElement("p");
      p.className = "sky-images-note small";
      p.setAttribute("role", "status");
      div.parentNode.insertBefore(p, div.nextSibling);
    }
    p.textContent = text;
  }

  /* Whether the sky images answer (their HiPS properties file, within 5 s): true or false.
   * Aladin Lite is given the images only when they do; offline it gets none (no layer), so it
   * never falls back to asking CDS's MocServer, and the view says the images are unavailable. */
  function imagesReachable(images) {
    if (!images) { return Promise.resolve(false); }
    var abort = new AbortController();
    var timer = setTimeout(function () { abort.abort(); }, 5000);
    return fetch(images + "/properties", { mode: "cors", cache: "force-cache", signal: abort.signal })
      .then(function (r) { return r.ok; }, function () { return false; })
      .finally(function () { clearTimeout(timer); });
  }

  function draw(div) {
    var view;
    try { view = JSON.parse(div.getAttribute("data-sky")); } catch (e) { return say(div, "Cannot read the sky view's data.", "failed"); }
    div.setAttribute("data-sky-points", String(view.points.length));
    if (!hasWebGL2()) {
      return say(div, "The sky view needs WebGL2, which this browser does not offer: the " +
                 view.points.length + " objects are listed in the table.", "no-webgl");
    }
    div.setAttribute("data-sky-state", "loading");
    Promise.all([loadAladin(), imagesReachable(view.images)]).then(function (both) {
      var A = both[0], images = both[1];
      var aspect = Math.max(1, div.clientWidth / Math.max(1, div.clientHeight));  // Aladin's fov is the wider side
      var options = { fov: Math.min(180, view.fov * aspect), target: view.ra + " " + view.dec, cooFrame: "ICRSd", log: false,
                      hipsList: [], showReticle: false, showSimbadPointerControl: false,
                      showCooGridControl: false, showSettingsControl: false, showShareControl: false,
                      showContextMenu: false, showLayersControl: false, backgroundColor: "rgb(20, 24, 32)" };
      options.survey = images ? view.images : [];  // [] : no image layer, a plain background
      var aladin = A.aladin(div, options);
      var others = A.catalog({ name: "Nocturne objects", sourceSize: 14, color: "#ffb000", shape: "circle",
                               onClick: "showPopup" });
      aladin.addCatalog(others);
      others.addSources(view.points.filter(function (p) { return p.id !== view.highlight; }).map(function (p) {
        return A.source(p.ra, p.dec, { objectId: p.id, class: p.label });
      }));
      var drawn = others.getSources().length;
      if (view.highlight) {
        var mine = A.catalog({ name: view.highlight, sourceSize: 22, color: "#ff3d7f", shape: "circle" });
        aladin.addCatalog(mine);
        mine.addSources(view.points.filter(function (p) { return p.id === view.highlight; }).map(function (p) {
          return A.source(p.ra, p.dec, { objectId: p.id, class: p.label });
        }));
        drawn += mine.getSources().length;
      }
      div.setAttribute("data-sky-sources", String(drawn));
      div.setAttribute("data-sky-state", "ready");
      div.nocturneAladin = aladin;
      div.setAttribute("data-sky-images", !view.images ? "none" : images ? "loaded" : "unavailable");
      if (view.images && !images) {
        note(div, "Sky images unavailable (no answer from " + new URL(view.images, location.href).host +
                  "): only our objects are drawn, on a plain background.");
      }
    }).catch(function (err) {
      say(div, "The sky view could not start: " + (err && err.message ? err.message : err), "failed");
    });
  }

  /* Aladin Lite (2.4 MB) is fetched only when a sky view comes into sight and stays there for
   * DWELL ms: a view below the results table, or in a tab not opened, costs the page nothing,
   * nor does one that is in sight only while the table above it is still being laid out. */
  var DWELL = 500;
  var watching = typeof IntersectionObserver === "function" ? new IntersectionObserver(function (entries) {
    entries.forEach(function (e) {
      var div = e.target;
      clearTimeout(div.nocturneSkyTimer);
      if (e.isIntersecting && !div.hasAttribute("data-sky-state")) {
        div.nocturneSkyTimer = setTimeout(function () {  // still in sight (the layout may have moved it)?
          var r = div.getBoundingClientRect();
          if (r.width > 0 && r.top < innerHeight + 100 && r.bottom > -100) { watching.unobserve(div); draw(div); }
        }, DWELL);
      }
    });
  }, { rootMargin: "100px" }) : null;

  function scan() {
    var divs = document.querySelectorAll("div.sky-canvas[data-sky]:not([data-sky-state]):not([data-sky-watched])");
    for (var i = 0; i < divs.length; i++) {
      if (watching) { divs[i].setAttribute("data-sky-watched", ""); watching.observe(divs[i]); } else { draw(divs[i]); }
    }
  }

  new MutationObserver(scan).observe(document.documentElement, { childList: true, subtree: true });
  document.addEventListener("DOMContentLoaded", scan);
})();
