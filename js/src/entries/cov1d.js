// cov1d.js: the ChangeOfVariables1D widget's anywidget front-end module.
import { renderCov1d } from "../views/cov1d/view.js";

export default {
  initialize() {},
  render: renderCov1d,
};
