// likelihood.js: the LikelihoodSplit widget's anywidget front-end module.
import { renderLikelihood } from "../views/likelihood/view.js";

export default {
  initialize() {},
  render: renderLikelihood,
};
