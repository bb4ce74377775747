/* The one place holding the difference between the two libdarknet C APIs.
 *
 * Debian's darknet (pjreddie, git 2018-09-14, /usr/lib/darknet):
 *   float *network_predict (network *net, float *input);
 *   detection *get_network_boxes (network *net, int w, int h, float thresh,
 *       float hier, int *map, int relative, int *num);
 *   void free_network (network *net);
 * AlexeyAB's fork (runs YOLOv4: mish, grouped routes, scale_x_y; CUDA):
 *   float *network_predict_ptr (network *net, float *input);
 *   detection *get_network_boxes (network *net, int w, int h, float thresh,
 *       float hier, int *map, int relative, int *num, int letter);
 *   void free_network_ptr (network *net);   (free_network takes a struct)
 *
 * meson selects the variant at configure time:
 *   cc.has_function('network_predict_ptr', dependencies : darknet_dep)
 *     -> -DHAVE_DARKNET_PREDICT_PTR
 */
#pragma once

#include <darknet.h>

#ifdef HAVE_DARKNET_PREDICT_PTR
#define YOLO_DARKNET_API_NAME "AlexeyAB darknet (network_predict_ptr)"
#define yolo_dn_predict(net, input) network_predict_ptr ((net), (input))
#define yolo_dn_get_boxes(net, w, h, thresh, num) \
  get_network_boxes ((net), (w), (h), (thresh), 0.5f, NULL, 1, (num), 0)
#define yolo_dn_free_network(net) free_network_ptr (net)
#else
#define YOLO_DARKNET_API_NAME "darknet 2018 (network_predict)"
#define yolo_dn_predict(net, input) network_predict ((net), (input))
#define yolo_dn_get_boxes(net, w, h, thresh, num) \
  get_network_boxes ((net), (w), (h), (thresh), 0.5f, NULL, 1, (num))
#define yolo_dn_free_network(net) free_network (net)
#endif
