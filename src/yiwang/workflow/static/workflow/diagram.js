// Draw the process with bpmn-js (vendored, no network).
(function () {
  var xml = JSON.parse(document.getElementById("bpmn-xml").textContent);
  var viewer = new BpmnJS({ container: "#canvas" });
  viewer.importXML(xml).then(function () {
    viewer.get("canvas").zoom("fit-viewport");
    document.getElementById("canvas").setAttribute("data-rendered", "1");
  }).catch(function (err) {
    var box = document.getElementById("diagram-error");
    box.hidden = false;
    box.textContent = "流程图无法显示：" + err.message;
  });
})();
